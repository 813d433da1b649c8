const { loadBootstrap, snapshotFromBootstrap } = require('./dist/src/config');
const { startDynamicConfig } = require('./dist/src/server/dynamic-config');
const { setLogLevel } = require('./dist/src/common/logger');
setLogLevel('debug');
const b = loadBootstrap({ path: '/tmp/seed-eds-local.yaml' }).bootstrap;
const d = startDynamicConfig(b, snapshotFromBootstrap(b, 1), { publish: s => console.log('publish', s.version), publishEndpoints: (n, c) => console.log('eps', n, JSON.stringify(c)) });
d.ready.then(() => { console.log('ready', JSON.stringify(d.current().endpoints)); console.log(JSON.stringify(d.configDump())); d.stop(); });
setTimeout(() => { console.log('timeout'); process.exit(1) }, 4000);
