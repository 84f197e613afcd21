// Node-RED settings for the charge hub (docs/node-red.md).
//
// - Project-local: user directory var/node-red, flows in flows/flows.json.
// - No default password: at first start an administrator password is generated, its
//   bcrypt hash kept in var/node-red/admin.json and the password written once to
//   var/node-red/initial-admin-password (mode 0600; sign in, change it, delete it).
//   NODE_RED_ADMIN_HASH (a hash from `npx node-red admin hash-pw`) replaces it.
// - A credential secret generated at first start (var/node-red/credential-secret) or
//   NODE_RED_CREDENTIAL_SECRET: flow credentials are encrypted at rest.
// - The editor listens on 127.0.0.1:1880 (NODE_RED_HOST / NODE_RED_PORT to change).
// - Defaults of the environment the shipped flows read (${VAR} in node properties);
//   anything already set in the environment wins.
// The hub's engine never depends on Node-RED: stopping it stops only the scenarios.
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const root = __dirname;
const userDir = path.resolve(process.env.NODE_RED_USER_DIR || path.join(root, "var", "node-red"));
fs.mkdirSync(userDir, { recursive: true, mode: 0o700 });

function secretFile(name, make) {
  const file = path.join(userDir, name);
  if (!fs.existsSync(file)) fs.writeFileSync(file, make(), { mode: 0o600 });
  return fs.readFileSync(file, "utf8").trim();
}

function adminHash() {
  if (process.env.NODE_RED_ADMIN_HASH) return process.env.NODE_RED_ADMIN_HASH;
  const file = path.join(userDir, "admin.json");
  if (!fs.existsSync(file)) {
    const bcrypt = require("bcryptjs");
    const password = crypto.randomBytes(12).toString("base64url");
    fs.writeFileSync(path.join(userDir, "initial-admin-password"), password + "\n", { mode: 0o600 });
    fs.writeFileSync(file, JSON.stringify({ user: "admin", hash: bcrypt.hashSync(password, 10) }),
                     { mode: 0o600 });
    console.log(`[charge-hub] Node-RED: no administrator yet; user 'admin', password in ${
      path.join(userDir, "initial-admin-password")} (change it, delete the file)`);
  }
  return JSON.parse(fs.readFileSync(file, "utf8")).hash;
}

const defaults = {
  HUB_DATA_DIR: path.join(root, "var", "demo"),
  HUB_NODES_PYTHON: path.join(root, ".venv", "bin", "python"),
  // scenario 1 and 2: the PLC (simulated in the demo) with the barrier and light coils
  PLC_HOST: "127.0.0.1", PLC_PORT: "5021", BARRIER_COIL: "0", LIGHTS_COIL: "1",
  ENTRANCE_CP: "CP-A01", BARRIER_OPEN_S: "20",
  DUSK_HOUR: "17", DAWN_HOUR: "8", TZ_OFFSET: "+0100",
  // scenario 3: the GTB's Modbus TCP server (0.0.0.0 to serve the building network)
  GTB_HOST: "127.0.0.1", GTB_PORT: "5502",
  // scenario 4: MQTT
  MQTT_HOST: "127.0.0.1", MQTT_PORT: "1883", MQTT_PREFIX: "chargehub",
  MQTT_COMMAND_TOPIC: "chargehub/command",
  // scenario 5: where alerts are posted (default: the demo receiver in the same tab)
  ALERT_WEBHOOK_URL: `http://127.0.0.1:${process.env.NODE_RED_PORT || 1880}/hub-alerts`,
  // scenario 6: the morning cap before the solar peak
  SOLAR_CAP_TARGET: "td-irve", SOLAR_CAP_A: "63", SOLAR_CAP_EXPIRES_S: "10800",
};
for (const [k, v] of Object.entries(defaults)) if (!process.env[k]) process.env[k] = v;
if (!process.env.HUB_BUS_TOKEN) {
  const tokenFile = process.env.HUB_BUS_TOKEN_FILE || path.join(process.env.HUB_DATA_DIR, "node-red.token");
  if (fs.existsSync(tokenFile)) process.env.HUB_BUS_TOKEN = fs.readFileSync(tokenFile, "utf8").trim();
}

module.exports = {
  uiHost: process.env.NODE_RED_HOST || "127.0.0.1",
  uiPort: Number(process.env.NODE_RED_PORT || 1880),
  userDir,
  flowFile: process.env.NODE_RED_FLOW_FILE || path.join(root, "flows", "flows.json"),
  flowFilePretty: true,
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET ||
    secretFile("credential-secret", () => crypto.randomBytes(32).toString("hex")),
  adminAuth: {
    type: "credentials",
    users: [{ username: "admin", password: adminHash(), permissions: "*" }],
  },
  nodesDir: [],
  logging: { console: { level: process.env.NODE_RED_LOG_LEVEL || "info", metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  externalModules: { autoInstall: false, palette: { allowInstall: true } },
  functionExternalModules: false,
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
};
