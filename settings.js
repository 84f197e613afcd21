// Node-RED settings for the charge hub: a project-local user directory and flow file,
// and no editor without a password (adminAuth is set from NODE_RED_ADMIN_HASH, a bcrypt
// hash made with `npx node-red admin hash-pw`). The hub engine stays safe without Node-RED.
const path = require("path");

const adminHash = process.env.NODE_RED_ADMIN_HASH;

module.exports = {
  uiHost: process.env.NODE_RED_HOST || "127.0.0.1",
  uiPort: Number(process.env.NODE_RED_PORT || 1880),
  userDir: process.env.NODE_RED_USER_DIR || path.join(__dirname, "var", "node-red"),
  flowFile: path.join(__dirname, "flows", "flows.json"),
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || false,
  adminAuth: adminHash
    ? { type: "credentials", users: [{ username: "admin", password: adminHash, permissions: "*" }] }
    : undefined,
  // Without a password the editor is read-only rather than open to anyone on the network.
  httpAdminRoot: adminHash ? "/" : false,
  logging: { console: { level: "info", metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false } },
};
