// react-native for @terreno/rtk's dist/platform.js in Node (see
// ../sdk.mjs): a native platform, so IsWeb is false and rtk keeps its
// tokens in expo-secure-store (./expo-secure-store.mjs), as on a phone.
export const Platform = { OS: "ios" };
export default { Platform };
