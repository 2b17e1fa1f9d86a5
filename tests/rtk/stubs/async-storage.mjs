// @react-native-async-storage/async-storage for @terreno/rtk in Node (see
// ../sdk.mjs). rtk reads it on the web only (Platform.OS is "ios" here,
// ./react-native.mjs), so any use is a mistake of the harness: it throws.
const unused = (name) => () => {
  throw new Error(`AsyncStorage.${name}: not used on a native platform`);
};

export default {
  getItem: unused("getItem"),
  setItem: unused("setItem"),
  removeItem: unused("removeItem"),
};
