/** The durable queue: device (server + backend), client, and their types. README.md in this folder maps the layers. */
export { QueueDevice, type QueueDeviceOptions } from "./server/device.js"
export { QueueClient } from "./client/client.js"
export type {
  QueueClientOptions,
  PutOptions as QueuePutOptions,
  PutResult,
  BatchMessage,
  PeekedMessage,
  DeviceStats,
  GroupOptions,
  ConsumeOptions,
  StreamPosition,
  RangeResult,
  StoredMessage,
} from "./client/types.js"
export { Delivery, QueueConsumer } from "./client/delivery.js"
export { QueueError, QueueStoreError, type QueueErrorCode } from "./errors.js"
export type { FsyncPolicy } from "./journal/store.js"
export type { RetryPolicy } from "./backend.js"
export type { QueueConfig, QueueStats, QueueBackend } from "./backend.js"
export type { RecoveryReport } from "./journal/recovery.js"
export { Titanic, type TitanicOptions, type TitanicStats } from "./titanic.js"
export { DurableForwarder, type DurableForwarderOptions, type DurableSubscriberInfo } from "./durable-forwarder.js"
export type { GroupConfig, GroupStats, StreamStats, HeaderCondition, TraceEvent, TraceEventType } from "./backend.js"
export type { AccessList, AccessUser, AccessRule, Right as AccessRight } from "./server/access.js"
