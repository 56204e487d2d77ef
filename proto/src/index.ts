// The one place that names Mart's Kafka topics and binds each command and event to its
// protobuf types, so a wrong topic or payload is a compile error in every service.
import './int64.ts';
import { mart } from '../gen/mart.js';

export { mart };

/** A generated protobuf message class, seen through the two calls the messaging layer needs. */
export interface MessageCodec<In, Out> {
  encode(message: In): { finish(): Uint8Array };
  decode(bytes: Uint8Array): Out;
}

export const topics = {
  systemCommands: 'mart.system.commands',
  brandCommands: 'mart.brand.commands',
  categoryCommands: 'mart.category.commands',
  productCommands: 'mart.product.commands',
  userCommands: 'mart.user.commands',
  customerCommands: 'mart.customer.commands',
  authCommands: 'mart.auth.commands',
  inventoryCommands: 'mart.inventory.commands',
  orderCommands: 'mart.order.commands',
  paymentCommands: 'mart.payment.commands',
  notificationCommands: 'mart.notification.commands',

  brandEvents: 'mart.brand.events',
  categoryEvents: 'mart.category.events',
  productEvents: 'mart.product.events',
  customerEvents: 'mart.customer.events',
  inventoryEvents: 'mart.inventory.events',
  orderEvents: 'mart.order.events',
  paymentEvents: 'mart.payment.events',
  notificationEvents: 'mart.notification.events',

  deadLetter: 'mart.dead-letter',
} as const;

export type TopicName = (typeof topics)[keyof typeof topics];

const replyTopicPrefix = 'mart.replies.';

/** Each calling service has one reply topic; every instance reads it in a group of its own. */
export function replyTopic(service: string): string {
  return `${replyTopicPrefix}${service}`;
}

export function isReplyTopic(topic: string): boolean {
  return topic.startsWith(replyTopicPrefix);
}

export const partitions = {
  // Commands are keyed by aggregate id: partitions let db-service work on several at once and
  // instances share the work. Every fetch names every partition it reads, in the request and
  // in the answer, so each one costs db-service and the broker on every poll: 3 per domain keep
  // a two-core db-service busy (33 lanes) without paying for 66.
  commands: 3,
  events: 3,
  // Replies carry no key and every instance of a service reads all of its replies: one is enough.
  replies: 1,
  deadLetter: 1,
} as const;

export interface CommandDefinition<ReqIn, ReqOut, ResIn, ResOut> {
  topic: TopicName;
  request: MessageCodec<ReqIn, ReqOut>;
  reply: MessageCodec<ResIn, ResOut>;
  /** Mutations are applied once per command id and may emit events; queries are not recorded. */
  mutation: boolean;
  /** The aggregate the command touches: commands with one key stay ordered on one partition. */
  key(request: ReqIn): string | undefined;
}

function command<ReqIn, ReqOut, ResIn, ResOut>(definition: {
  topic: TopicName;
  request: MessageCodec<ReqIn, ReqOut>;
  reply: MessageCodec<ResIn, ResOut>;
  mutation: boolean;
  key(request: NoInfer<ReqIn>): string | null | undefined;
}): CommandDefinition<ReqIn, ReqOut, ResIn, ResOut> {
  return { ...definition, key: (request) => definition.key(request) ?? undefined };
}

const byId = (request: { id?: string | null }) => request.id;
const anyPartition = () => undefined;

export const commands = {
  'system.ping': command({
    topic: topics.systemCommands,
    request: mart.common.Ping,
    reply: mart.common.Pong,
    mutation: false,
    key: anyPartition,
  }),

  'brand.create': command({
    topic: topics.brandCommands,
    request: mart.brand.CreateBrand,
    reply: mart.brand.Brand,
    mutation: true,
    key: byId,
  }),
  'brand.update': command({
    topic: topics.brandCommands,
    request: mart.brand.UpdateBrand,
    reply: mart.brand.Brand,
    mutation: true,
    key: byId,
  }),
  'brand.delete': command({
    topic: topics.brandCommands,
    request: mart.common.IdRequest,
    reply: mart.common.Empty,
    mutation: true,
    key: byId,
  }),
  'brand.get': command({
    topic: topics.brandCommands,
    request: mart.common.IdRequest,
    reply: mart.brand.Brand,
    mutation: false,
    key: byId,
  }),
  'brand.list': command({
    topic: topics.brandCommands,
    request: mart.brand.ListBrands,
    reply: mart.brand.BrandPage,
    mutation: false,
    key: anyPartition,
  }),

  'category.create': command({
    topic: topics.categoryCommands,
    request: mart.category.CreateCategory,
    reply: mart.category.Category,
    mutation: true,
    key: byId,
  }),
  'category.update': command({
    topic: topics.categoryCommands,
    request: mart.category.UpdateCategory,
    reply: mart.category.Category,
    mutation: true,
    key: byId,
  }),
  'category.delete': command({
    topic: topics.categoryCommands,
    request: mart.common.IdRequest,
    reply: mart.common.Empty,
    mutation: true,
    key: byId,
  }),
  'category.get': command({
    topic: topics.categoryCommands,
    request: mart.common.IdRequest,
    reply: mart.category.Category,
    mutation: false,
    key: byId,
  }),
  'category.list': command({
    topic: topics.categoryCommands,
    request: mart.category.ListCategories,
    reply: mart.category.CategoryPage,
    mutation: false,
    key: anyPartition,
  }),

  'product.create': command({
    topic: topics.productCommands,
    request: mart.product.CreateProduct,
    reply: mart.product.Product,
    mutation: true,
    key: byId,
  }),
  'product.update': command({
    topic: topics.productCommands,
    request: mart.product.UpdateProduct,
    reply: mart.product.Product,
    mutation: true,
    key: byId,
  }),
  'product.delete': command({
    topic: topics.productCommands,
    request: mart.common.IdRequest,
    reply: mart.common.Empty,
    mutation: true,
    key: byId,
  }),
  'product.get': command({
    topic: topics.productCommands,
    request: mart.product.GetProduct,
    reply: mart.product.Product,
    mutation: false,
    key: byId,
  }),
  'product.list': command({
    topic: topics.productCommands,
    request: mart.product.ListProducts,
    reply: mart.product.ProductPage,
    mutation: false,
    key: anyPartition,
  }),
  'product.import': command({
    topic: topics.productCommands,
    request: mart.product.ImportProducts,
    reply: mart.product.ImportResult,
    mutation: true,
    key: anyPartition,
  }),

  'user.create': command({ topic: topics.userCommands, request: mart.user.CreateUser, reply: mart.user.User, mutation: true, key: byId }),
  'user.update': command({ topic: topics.userCommands, request: mart.user.UpdateUser, reply: mart.user.User, mutation: true, key: byId }),
  'user.delete': command({
    topic: topics.userCommands,
    request: mart.common.IdRequest,
    reply: mart.common.Empty,
    mutation: true,
    key: byId,
  }),
  'user.get': command({ topic: topics.userCommands, request: mart.common.IdRequest, reply: mart.user.User, mutation: false, key: byId }),
  'user.list': command({
    topic: topics.userCommands,
    request: mart.user.ListUsers,
    reply: mart.user.UserPage,
    mutation: false,
    key: anyPartition,
  }),
  'user.ensure-admin': command({
    topic: topics.userCommands,
    request: mart.user.EnsureAdmin,
    reply: mart.user.EnsureAdminResult,
    mutation: true,
    key: () => 'bootstrap-admin',
  }),

  'customer.register': command({
    topic: topics.customerCommands,
    request: mart.customer.RegisterCustomer,
    reply: mart.customer.Customer,
    mutation: true,
    key: byId,
  }),
  'customer.update': command({
    topic: topics.customerCommands,
    request: mart.customer.UpdateCustomer,
    reply: mart.customer.Customer,
    mutation: true,
    key: byId,
  }),
  'customer.set-password': command({
    topic: topics.customerCommands,
    request: mart.customer.SetCustomerPassword,
    reply: mart.common.Empty,
    mutation: true,
    key: byId,
  }),
  'customer.delete': command({
    topic: topics.customerCommands,
    request: mart.common.IdRequest,
    reply: mart.common.Empty,
    mutation: true,
    key: byId,
  }),
  'customer.get': command({
    topic: topics.customerCommands,
    request: mart.common.IdRequest,
    reply: mart.customer.Customer,
    mutation: false,
    key: byId,
  }),
  'customer.list': command({
    topic: topics.customerCommands,
    request: mart.customer.ListCustomers,
    reply: mart.customer.CustomerPage,
    mutation: false,
    key: anyPartition,
  }),

  'auth.get-credentials': command({
    topic: topics.authCommands,
    request: mart.auth.GetCredentials,
    reply: mart.auth.Credentials,
    mutation: false,
    key: (r) => r.email,
  }),
  'auth.issue-refresh-token': command({
    topic: topics.authCommands,
    request: mart.auth.IssueRefreshToken,
    reply: mart.common.Empty,
    mutation: true,
    key: (r) => r.familyId,
  }),
  'auth.rotate-refresh-token': command({
    topic: topics.authCommands,
    request: mart.auth.RotateRefreshToken,
    reply: mart.auth.RotateResult,
    mutation: true,
    key: (r) => r.tokenHash,
  }),
  'auth.revoke-refresh-token': command({
    topic: topics.authCommands,
    request: mart.auth.RevokeRefreshToken,
    reply: mart.common.Empty,
    mutation: true,
    key: (r) => r.tokenHash,
  }),

  'inventory.get': command({
    topic: topics.inventoryCommands,
    request: mart.inventory.GetStock,
    reply: mart.inventory.StockRecord,
    mutation: false,
    key: (r) => r.productId,
  }),
  'inventory.set': command({
    topic: topics.inventoryCommands,
    request: mart.inventory.SetStock,
    reply: mart.inventory.StockRecord,
    mutation: true,
    key: (r) => r.productId,
  }),
  'inventory.adjust': command({
    topic: topics.inventoryCommands,
    request: mart.inventory.AdjustStock,
    reply: mart.inventory.StockRecord,
    mutation: true,
    key: (r) => r.productId,
  }),
  'inventory.list-adjustments': command({
    topic: topics.inventoryCommands,
    request: mart.inventory.ListAdjustments,
    reply: mart.inventory.AdjustmentPage,
    mutation: false,
    key: (r) => r.productId,
  }),

  'order.place': command({
    topic: topics.orderCommands,
    request: mart.order.PlaceOrder,
    reply: mart.order.Order,
    mutation: true,
    key: byId,
  }),
  'order.get': command({ topic: topics.orderCommands, request: mart.order.GetOrder, reply: mart.order.Order, mutation: false, key: byId }),
  'order.list': command({
    topic: topics.orderCommands,
    request: mart.order.ListOrders,
    reply: mart.order.OrderPage,
    mutation: false,
    key: anyPartition,
  }),
  'order.transition': command({
    topic: topics.orderCommands,
    request: mart.order.TransitionOrder,
    reply: mart.order.Order,
    mutation: true,
    key: byId,
  }),

  'payment.create': command({
    topic: topics.paymentCommands,
    request: mart.payment.CreatePayment,
    reply: mart.payment.Payment,
    mutation: true,
    key: (r) => r.orderId,
  }),
  'payment.attach-provider-payment': command({
    topic: topics.paymentCommands,
    request: mart.payment.AttachProviderPayment,
    reply: mart.payment.Payment,
    mutation: true,
    key: byId,
  }),
  'payment.record-outcome': command({
    topic: topics.paymentCommands,
    request: mart.payment.RecordPaymentOutcome,
    reply: mart.payment.Payment,
    mutation: true,
    key: (r) => r.id ?? r.providerPaymentId,
  }),
  'payment.request-refund': command({
    topic: topics.paymentCommands,
    request: mart.payment.RequestRefund,
    reply: mart.payment.RefundRequested,
    mutation: true,
    key: (r) => r.paymentId,
  }),
  'payment.record-refund': command({
    topic: topics.paymentCommands,
    request: mart.payment.RecordRefund,
    reply: mart.payment.Payment,
    mutation: true,
    key: (r) => r.refundId,
  }),
  'payment.get': command({
    topic: topics.paymentCommands,
    request: mart.payment.GetPayment,
    reply: mart.payment.Payment,
    mutation: false,
    key: byId,
  }),
  'payment.list': command({
    topic: topics.paymentCommands,
    request: mart.payment.ListPayments,
    reply: mart.payment.PaymentPage,
    mutation: false,
    key: anyPartition,
  }),

  'notification.record-attempt': command({
    topic: topics.notificationCommands,
    request: mart.notification.RecordAttempt,
    reply: mart.notification.Notification,
    mutation: true,
    key: byId,
  }),
  'notification.list': command({
    topic: topics.notificationCommands,
    request: mart.notification.ListNotifications,
    reply: mart.notification.NotificationPage,
    mutation: false,
    key: anyPartition,
  }),
  'notification.list-due': command({
    topic: topics.notificationCommands,
    request: mart.notification.ListDueNotifications,
    reply: mart.notification.DueNotifications,
    mutation: false,
    key: anyPartition,
  }),
  'notification.claim': command({
    topic: topics.notificationCommands,
    request: mart.notification.ClaimNotification,
    reply: mart.notification.ClaimResult,
    mutation: true,
    key: byId,
  }),
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
type Parts<N extends CommandName> =
  Commands[N] extends CommandDefinition<infer ReqIn, infer ReqOut, infer ResIn, infer ResOut>
    ? { reqIn: ReqIn; reqOut: ReqOut; resIn: ResIn; resOut: ResOut }
    : never;
/** What a caller sends (plain object). */
export type CommandRequest<N extends CommandName> = Parts<N>['reqIn'];
/** What db-service's handler receives (decoded message). */
export type CommandInput<N extends CommandName> = Parts<N>['reqOut'];
/** What db-service's handler returns (plain object to encode). */
export type CommandResult<N extends CommandName> = Parts<N>['resIn'];
/** What the caller gets back (decoded message). */
export type CommandReply<N extends CommandName> = Parts<N>['resOut'];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

export interface EventDefinition<In, Out> {
  topic: TopicName;
  type: MessageCodec<In, Out>;
  key(event: In): string;
}

function event<In, Out>(definition: {
  topic: TopicName;
  type: MessageCodec<In, Out>;
  key(event: NoInfer<In>): string | null | undefined;
}): EventDefinition<In, Out> {
  return { ...definition, key: (e) => definition.key(e) ?? '' };
}

export const events = {
  'brand.created': event({ topic: topics.brandEvents, type: mart.brand.BrandCreated, key: (e) => e.brand?.id }),
  'brand.updated': event({ topic: topics.brandEvents, type: mart.brand.BrandUpdated, key: (e) => e.brand?.id }),
  'brand.deleted': event({ topic: topics.brandEvents, type: mart.brand.BrandDeleted, key: (e) => e.id }),
  'category.created': event({ topic: topics.categoryEvents, type: mart.category.CategoryCreated, key: (e) => e.category?.id }),
  'category.updated': event({ topic: topics.categoryEvents, type: mart.category.CategoryUpdated, key: (e) => e.category?.id }),
  'category.deleted': event({ topic: topics.categoryEvents, type: mart.category.CategoryDeleted, key: (e) => e.id }),
  'product.created': event({ topic: topics.productEvents, type: mart.product.ProductCreated, key: (e) => e.product?.id }),
  'product.updated': event({ topic: topics.productEvents, type: mart.product.ProductUpdated, key: (e) => e.product?.id }),
  'product.deleted': event({ topic: topics.productEvents, type: mart.product.ProductDeleted, key: (e) => e.id }),
  'customer.registered': event({ topic: topics.customerEvents, type: mart.customer.CustomerRegistered, key: (e) => e.customer?.id }),
  'customer.deleted': event({ topic: topics.customerEvents, type: mart.customer.CustomerDeleted, key: (e) => e.id }),
  'inventory.stock-changed': event({ topic: topics.inventoryEvents, type: mart.inventory.StockChanged, key: (e) => e.stock?.productId }),
  'order.placed': event({ topic: topics.orderEvents, type: mart.order.OrderPlaced, key: (e) => e.order?.id }),
  'order.status-changed': event({ topic: topics.orderEvents, type: mart.order.OrderStatusChanged, key: (e) => e.order?.id }),
  'payment.status-changed': event({ topic: topics.paymentEvents, type: mart.payment.PaymentStatusChanged, key: (e) => e.payment?.orderId }),
  'payment.refund-requested': event({ topic: topics.paymentEvents, type: mart.payment.RefundRequested, key: (e) => e.payment?.orderId }),
  // Keyed by recipient: one customer's emails go out in the order they were queued.
  'notification.queued': event({
    topic: topics.notificationEvents,
    type: mart.notification.NotificationQueued,
    key: (e) => e.notification?.to,
  }),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
/** What a publisher writes (plain object). */
export type EventPayload<N extends EventName> = Events[N] extends EventDefinition<infer In, unknown> ? In : never;
/** What a consumer receives (decoded message). */
export type EventMessage<N extends EventName> = Events[N] extends EventDefinition<never, infer Out> ? Out : never;

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(events, name);
}

/** Kafka header names of Mart's messaging protocol. */
export const headers = {
  type: 'mart-type',
  commandId: 'mart-command-id',
  correlationId: 'mart-correlation-id',
  replyTo: 'mart-reply-to',
  deadline: 'mart-deadline',
  status: 'mart-status',
  eventId: 'mart-event-id',
  requestId: 'mart-request-id',
  traceparent: 'traceparent',
  /** On a dead letter: why, and the topic it came from. */
  deadLetterReason: 'mart-dead-letter-reason',
  sourceTopic: 'mart-source-topic',
} as const;

/** Every topic Mart uses, with its partition count, for start-up topic creation. */
export function allTopics(): { topic: string; numPartitions: number }[] {
  const declared = Object.values(topics).map((topic) => ({
    topic,
    numPartitions:
      topic === topics.deadLetter ? partitions.deadLetter : topic.endsWith('.commands') ? partitions.commands : partitions.events,
  }));
  return declared;
}
