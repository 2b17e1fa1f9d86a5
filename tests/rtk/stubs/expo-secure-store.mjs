// expo-secure-store for @terreno/rtk in Node (see ../sdk.mjs): the
// keychain of one app instance, in memory. rtk's login listener stores
// AUTH_TOKEN and REFRESH_TOKEN here, its base query reads them back.
// Each instance of the bundle has its own.
const items = new Map();

export async function getItemAsync(key) {
  return items.has(key) ? items.get(key) : null;
}

export async function setItemAsync(key, value) {
  items.set(key, String(value));
}

export async function deleteItemAsync(key) {
  items.delete(key);
}
