// Imported first by every entry point (and by kafka-client), so that the fixes to kafkajs are in
// place before any module loads kafkajs' producer. See kafkajs-send-fix.ts, kafkajs-coordinator-fix.ts, kafkajs-txn-coordinator-fix.ts and kafkajs-create-topics-fix.ts;
// kafkajs-varint-speedup.ts, kafkajs-crc32c-speedup.ts, kafkajs-decoder-speedup.ts, kafkajs-produce-speedup.ts and kafkajs-encoder-speedup.ts make its record encoding and request framing cheaper (same bytes).
import { installCoordinatorFix } from './kafkajs-coordinator-fix';
import { installCreateTopicsFix } from './kafkajs-create-topics-fix';
import { installCrc32cSpeedup } from './kafkajs-crc32c-speedup';
import { installDecoderSpeedup } from './kafkajs-decoder-speedup';
import { installEncoderSpeedup } from './kafkajs-encoder-speedup';
import { installProduceSpeedup } from './kafkajs-produce-speedup';
import { installSendFix } from './kafkajs-send-fix';
import { installTxnCoordinatorFix } from './kafkajs-txn-coordinator-fix';
import { installVarintSpeedup } from './kafkajs-varint-speedup';

// First: kafkajs' record batch encoder takes its checksum function when it loads.
installCrc32cSpeedup();
// Likewise: its record batch decoder takes the record decoder when it loads.
installDecoderSpeedup();
installEncoderSpeedup();
installSendFix();
installCoordinatorFix();
installTxnCoordinatorFix();
installVarintSpeedup();
installProduceSpeedup();
// Last: it loads kafkajs' client, and with it the producer the fixes above must precede.
installCreateTopicsFix();
