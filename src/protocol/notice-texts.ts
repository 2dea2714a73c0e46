/** The texts TWS sends with its connection and farm notices (ERR_MSG with id -1). */
export const NOTICE_TEXTS: Readonly<Record<number, string>> = {
  326: "Unable to connect as the client id is already in use. Retry with a unique client id.",
  1100: "Connectivity between IB and Trader Workstation has been lost.",
  1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
  1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
  1300: "TWS socket port has been reset and this connection is being dropped. Please reconnect on the new port",
  2103: "Market data farm connection is broken:usfarm",
  2104: "Market data farm connection is OK:usfarm",
  2105: "HMDS data farm connection is broken:ushmds",
  2106: "HMDS data farm connection is OK:ushmds",
  2107: "HMDS data farm connection is inactive but should be available upon demand.ushmds",
  2108: "Market data farm connection is inactive but should be available upon demand.usfarm",
  2110: "Connectivity between Trader Workstation and server is broken. It will be restored automatically.",
  2119: "Market data farm is connecting:usfarm",
  2157: "Sec-def data farm connection is broken:secdefil",
  2158: "Sec-def data farm connection is OK:secdefil",
};
