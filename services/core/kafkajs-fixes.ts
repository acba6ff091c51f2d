// Imported first by every entry point (and by kafka-client), so that the fixes to kafkajs are in
// place before any module loads kafkajs' producer. See kafkajs-send-fix.ts, kafkajs-coordinator-fix.ts and kafkajs-txn-coordinator-fix.ts;
// kafkajs-varint-speedup.ts makes its record encoding cheaper (same bytes).
import { installCoordinatorFix } from './kafkajs-coordinator-fix';
import { installSendFix } from './kafkajs-send-fix';
import { installTxnCoordinatorFix } from './kafkajs-txn-coordinator-fix';
import { installVarintSpeedup } from './kafkajs-varint-speedup';

installSendFix();
installCoordinatorFix();
installTxnCoordinatorFix();
installVarintSpeedup();
