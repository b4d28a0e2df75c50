/** `omq/queue`: the durable queue device, its client, the durable streamer, Titanic (RFC 9), and the `omq-queue` CLI's building blocks. */
export { QueueDevice, QueueClient, Delivery, QueueConsumer, QueueError, QueueStoreError } from "../devices/queue/index.js"
export { DurableStreamer, type DurableStreamerOptions } from "../devices/queue/durable-streamer.js"
export { Titanic, type TitanicOptions, type TitanicStats } from "../devices/queue/index.js"
export { DurableForwarder, type DurableForwarderOptions, type DurableSubscriberInfo } from "../devices/queue/durable-forwarder.js"
export type {
  QueueDeviceOptions,
  QueueClientOptions,
  QueuePutOptions,
  PutResult,
  BatchMessage,
  PeekedMessage,
  DeviceStats,
  QueueErrorCode,
  FsyncPolicy,
  RetryPolicy,
  QueueConfig,
  QueueStats,
  RecoveryReport,
  QueueBackend,
  GroupConfig,
  GroupStats,
  StreamStats,
  HeaderCondition,
  TraceEvent,
  TraceEventType,
  GroupOptions,
  ConsumeOptions,
  StreamPosition,
  RangeResult,
  StoredMessage,
  AccessList,
  AccessUser,
  AccessRule,
  AccessRight,
} from "../devices/queue/index.js"
