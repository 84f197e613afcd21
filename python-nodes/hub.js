// Thin wrappers: the hub nodes are written in Python (hub_nodes/). A config node owns one
// Python child (python-shell, unbuffered, JSON lines) and the bus connection inside it;
// every other node registers with it and passes its input messages through, keyed by a
// request id so that the reply goes out on the very message that came in.
const path = require("path");
const { PythonShell } = require("python-shell");

const MAX_BACKOFF_MS = 30000;
// Status words Node-RED already translates (English, French…).
const COMMON = { connecting: "node-red:common.status.connecting",
                 disconnected: "node-red:common.status.disconnected",
                 "engine unreachable": "hub-config.status.unreachable" };

module.exports = function (RED) {
  function HubConfigNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const dataDir = config.dataDir || process.env.HUB_DATA_DIR || "";
    // The engine's own variables (docs/configuration.md) first: read under other names,
    // a moved endpoint left the nodes talking to nothing.
    node.events = config.events || process.env.HUB_BUS_PUB_ENDPOINT ||
      process.env.HUB_BUS_EVENTS || (dataDir && `ipc://${path.join(dataDir, "bus-events.sock")}`);
    node.commands = config.commands || process.env.HUB_BUS_ROUTER_ENDPOINT ||
      process.env.HUB_BUS_COMMANDS ||
      (dataDir && `ipc://${path.join(dataDir, "bus-commands.sock")}`);
    node.users = new Map(); // node id -> {kind, config, onStatus, onSend, onDone}
    node.connected = false;
    node.statusText = "connecting";
    let shell = null;
    let backoff = 500;
    let closing = false;
    let restartTimer = null;

    const write = (obj) => {  // nothing to a child that is stopping (a node closing late)
      if (shell && !closing && shell.stdin && !shell.stdin.writableEnded) shell.send(obj);
    };
    const showAll = () => node.users.forEach((u) => u.onStatus(node.connected, node.statusText));

    function start() {
      const token = (node.credentials && node.credentials.token) || process.env.HUB_BUS_TOKEN || "";
      if (!node.events || !node.commands) {
        node.statusText = "no engine endpoint";
        showAll();
        return;
      }
      shell = new PythonShell(path.join("hub_nodes", "__main__.py"), {
        mode: "json",
        pythonPath: config.python || process.env.HUB_NODES_PYTHON || "python3",
        pythonOptions: ["-u"],
        scriptPath: __dirname,
        cwd: __dirname,
        env: { ...process.env, PYTHONPATH: __dirname },
      });
      shell.on("message", (m) => {
        if (m.op === "status") {
          node.connected = m.connected;
          node.statusText = m.text;
          if (m.connected) backoff = 500;
          showAll();
        } else if (m.op === "log") {
          node[m.level === "error" ? "error" : "warn"](m.text);
        } else {
          const user = node.users.get(m.node);
          if (!user) return;
          if (m.op === "send") user.onSend(m.rid, m.msg);
          else if (m.op === "done") user.onDone(m.rid, m.error);
        }
      });
      // A child killed first (Ctrl-C reaches the whole process group) breaks the pipe:
      // not an uncaught exception in Node-RED.
      shell.childProcess.stdin.on("error", (err) => {
        if (!closing) node.warn(`python child: ${err.message}`);
      });
      shell.on("stderr", (line) => node.warn(`python: ${line}`));
      shell.on("error", (err) => node.warn(`python child: ${err.message}`));
      shell.on("close", () => {
        shell = null;
        if (closing) return;
        node.connected = false;
        node.statusText = `restarting in ${Math.round(backoff / 1000)} s`;
        showAll();
        restartTimer = setTimeout(start, backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        node.users.forEach((u) => u.onDone(null, "the python child stopped"));
      });
      write({ op: "config", events: node.events, commands: node.commands, token,
              timeoutS: Number(config.timeoutS) || 5 });
      node.users.forEach((u, id) => write({ op: "add", node: id, kind: u.kind, config: u.config }));
    }

    node.register = (id, kind, cfg, handlers) => {
      node.users.set(id, { kind, config: cfg, ...handlers });
      write({ op: "add", node: id, kind, config: cfg });
      handlers.onStatus(node.connected, node.statusText);
    };
    node.unregister = (id) => { node.users.delete(id); write({ op: "remove", node: id }); };
    node.input = (id, rid, msg) => write({ op: "input", node: id, rid, msg });
    node.child = () => shell && shell.childProcess; // for the tests and diagnostics

    start();
    node.on("close", (done) => {
      closing = true;
      clearTimeout(restartTimer);
      if (!shell) return done();
      const child = shell;
      child.end(() => done());
      setTimeout(() => { try { child.kill(); } catch (e) { /* gone already */ } }, 2000);
    });
  }
  RED.nodes.registerType("hub-config", HubConfigNode, { credentials: { token: { type: "password" } } });

  // What a node's input message carries to Python: JSON-safe fields only (an HTTP
  // request's req/res stay here and are found again by the request id).
  function portable(msg) {
    const out = {};
    for (const [k, v] of Object.entries(msg)) {
      if (k === "req" || k === "res" || k.startsWith("_")) continue;
      out[k] = v;
    }
    return out;
  }

  function hubNode(kind, hasInput) {
    return function (config) {
      RED.nodes.createNode(this, config);
      const node = this;
      const hub = RED.nodes.getNode(config.hub);
      const waiting = new Map(); // rid -> {msg, send, done}
      let counter = 0;
      if (!hub) {
        node.status({ fill: "red", shape: "ring", text: "node-red:common.status.not-connected" });
        return;
      }
      const cfg = { ...config };
      delete cfg.hub; delete cfg.wires; delete cfg.x; delete cfg.y; delete cfg.z;
      hub.register(node.id, kind, cfg, {
        onStatus: (up, text) => node.status(up
          ? { fill: "green", shape: "dot", text: "node-red:common.status.connected" }
          : { fill: "red", shape: "ring", text: COMMON[text] || text }),
        onSend: (rid, fields) => {
          const w = rid === null ? null : waiting.get(rid);
          if (w) { Object.assign(w.msg, fields); w.send(w.msg); }
          else if (rid === null) node.send(fields);
        },
        onDone: (rid, error) => {
          const list = rid === null ? [...waiting.keys()] : [rid];
          for (const r of list) {
            const w = waiting.get(r);
            if (!w) continue;
            waiting.delete(r);
            if (error) w.done(error); else w.done();
          }
        },
      });
      if (hasInput) {
        node.on("input", (msg, send, done) => {
          const rid = `${node.id}:${++counter}`;
          waiting.set(rid, { msg, send, done });
          hub.input(node.id, rid, portable(msg));
        });
      }
      node.on("close", (done) => {
        hub.unregister(node.id);
        waiting.forEach((w) => w.done());
        waiting.clear();
        done();
      });
    };
  }

  RED.nodes.registerType("hub-events", hubNode("hub-events", false));
  RED.nodes.registerType("hub-command", hubNode("hub-command", true));
  RED.nodes.registerType("hub-state", hubNode("hub-state", true));
  RED.nodes.registerType("hub-limit", hubNode("hub-limit", true));
  RED.nodes.registerType("hub-gtb", hubNode("hub-gtb", true));
};
