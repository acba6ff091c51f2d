// Imported by an entry point before services/core/kafkajs-fixes: see partition-grouping-fix.ts.
import { installPartitionGroupingFix } from './partition-grouping-fix';

installPartitionGroupingFix();
