// expo-constants for @terreno/rtk's dist/constants.js in Node (see
// ../build.mjs): an app config without `extra` settings, so AUTH_DEBUG and
// WEBSOCKETS_DEBUG are off, as in a production app.
export default { expoConfig: { extra: {} } };
