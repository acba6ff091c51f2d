// Imported first by every entry point (and by kafka-client), so that the fixes to kafkajs are in
// place before any module loads kafkajs' producer. See kafkajs-send-fix.ts and kafkajs-coordinator-fix.ts.
import { installCoordinatorFix } from './kafkajs-coordinator-fix';
import { installSendFix } from './kafkajs-send-fix';

installSendFix();
installCoordinatorFix();
