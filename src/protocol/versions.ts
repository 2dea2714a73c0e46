/**
 * Server versions we speak. Below 157 layouts differ in ways no current client needs; from
 * 201 IB switches framing to binary ids and protobuf bodies, which a text codec must never
 * negotiate. 178 is the highest version ib_async offers and inside every text client's range.
 */
export const MIN_SERVER_VERSION = 157;
export const MAX_SERVER_VERSION = 178;
export const DEFAULT_SERVER_VERSION = 178;

/** Layout thresholds that fall inside 157..178 (named as the official clients name them). */
export const V = {
  LINKING: 70,
  MKT_DEPTH_PRIM_EXCHANGE: 149,
  REAL_TIME_BARS_OPTIONS: 70,
  MARKET_RULES: 126,
  NO_DEFAULT_OPEN_CLOSE: 160,
  PRICE_BASED_VOLATILITY: 156,
  REPLACE_FA_END: 157,
  DURATION: 158,
  MARKET_DATA_IN_SHARES: 159,
  POST_TO_ATS: 160,
  WSHE_CALENDAR: 161,
  AUTO_CANCEL_PARENT: 162,
  FRACTIONAL_SIZE_SUPPORT: 163,
  SIZE_RULES: 164,
  HISTORICAL_SCHEDULE: 165,
  ADVANCED_ORDER_REJECT: 166,
  USER_INFO: 167,
  CRYPTO_AGGREGATED_TRADES: 168,
  MANUAL_ORDER_TIME: 169,
  PEGBEST_PEGMID_OFFSETS: 170,
  WSH_EVENT_DATA_FILTERS: 171,
  IPO_PRICES: 172,
  WSH_EVENT_DATA_FILTERS_DATE: 173,
  INSTRUMENT_TIMEZONE: 174,
  HMDS_MARKET_DATA_IN_SHARES: 175,
  BOND_ISSUERID: 176,
  FA_PROFILE_DESUPPORT: 177,
  PENDING_PRICE_REVISION: 178,
} as const;
