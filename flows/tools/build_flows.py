"""The shipped scenario flows (flows/flows.json), written as code so that a review sees
the wiring; `python flows/tools/build_flows.py` rewrites the file. Changes made in the
editor land in flows.json directly: port them back here before the next rebuild."""
import json
F = []
def node(id, type, z, x, y, wires=None, **kw):
    n = {"id": id, "type": type, "z": z, **kw, "x": x, "y": y}
    if wires is not None:
        n["wires"] = wires
    F.append(n)
    return n
def tab(id, label, info):
    F.append({"id": id, "type": "tab", "label": label, "disabled": False, "info": info})
def comment(id, z, text, info, y=40):
    node(id, "comment", z, 250, y, [], name=text, info=info)

# shared configuration nodes
F.append({"id": "hub0000000000001", "type": "hub-config", "name": "charge hub",
          "dataDir": "", "events": "", "commands": "", "python": "", "timeoutS": 5})
F.append({"id": "plc0000000000001", "type": "modbus-client", "name": "PLC (barrier, lights)",
          "clienttype": "tcp", "bufferCommands": True, "stateLogEnabled": False,
          "queueLogEnabled": False, "failureLogEnabled": True, "tcpHost": "${PLC_HOST}",
          "tcpPort": "${PLC_PORT}", "tcpType": "DEFAULT", "serialPort": "/dev/ttyUSB0",
          "serialType": "RTU-BUFFERD", "serialBaudrate": "9600", "serialDatabits": "8",
          "serialStopbits": "1", "serialParity": "none", "serialConnectionDelay": "100",
          "serialAsciiResponseStartDelimiter": "0x3A", "unit_id": "1", "commandDelay": "1",
          "clientTimeout": "1000", "reconnectOnTimeout": True, "reconnectTimeout": "2000",
          "parallelUnitIdsAllowed": True})
F.append({"id": "mqtt000000000001", "type": "mqtt-broker", "name": "site broker",
          "broker": "${MQTT_HOST}", "port": "${MQTT_PORT}", "clientid": "", "autoConnect": True,
          "usetls": False, "protocolVersion": "4", "keepalive": "60", "cleansession": True,
          "autoUnsubscribe": True, "birthTopic": "", "closeTopic": "", "willTopic": ""})

def coil_write(id, z, x, y, adr_env, name):
    return node(id, "modbus-write", z, x, y, [[], []], name=name, showStatusActivities=True,
                showErrors=True, showWarnings=True, unitid="1", dataType="Coil",
                adr=adr_env, quantity="1", server="plc0000000000001",
                emptyMsgOnFail=False, keepMsgProperties=False)

# 1 barrier
z = "tab1000000000001"
tab(z, "1 · Barrier", "Opens the parking barrier (a PLC coil) when a badge is accepted at the entrance charge point. docs/node-red.md §1")
comment("c1", z, "Badge accepted at ${ENTRANCE_CP} → barrier coil ${BARRIER_COIL} ON for ${BARRIER_OPEN_S} s", "")
node("b1events", "hub-events", z, 140, 120, [["b1accepted"]], name="badge at the entrance",
     hub="hub0000000000001", topics="event.cp.*.authorize, event.cp.*.session.started",
     chargePoint="${ENTRANCE_CP}")
node("b1accepted", "switch", z, 360, 120, [["b1pulse"]], name="accepted?",
     property="payload.status", propertyType="msg",
     rules=[{"t": "eq", "v": "Accepted", "vt": "str"}], checkall="true", repair=False, outputs=1)
node("b1pulse", "trigger", z, 560, 120, [["b1coil"]], name="open, then close",
     op1="true", op2="false", op1type="bool", op2type="bool", duration="${BARRIER_OPEN_S}",
     extend=True, overrideDelay=False, units="s", reset="", bytopic="all", topic="topic",
     outputs=1)
coil_write("b1coil", z, 780, 120, "${BARRIER_COIL}", "barrier coil")

# 2 lighting
z = "tab2000000000001"
tab(z, "2 · Lighting", "Car park lights on while a session is active after dusk (the site's local time, DST included). docs/node-red.md §2")
comment("c2", z, "Lights ON while sessions_active > 0 and the site's hour is ≥ ${DUSK_HOUR} or < ${DAWN_HOUR}", "")
node("l2tick", "inject", z, 130, 100, [["l2state"]], name="every 30 s", props=[],
     repeat="30", crontab="", once=True, onceDelay="3", topic="")
node("l2events", "hub-events", z, 130, 160, [["l2state"]], name="sessions",
     hub="hub0000000000001", topics="event.cp.*.session.*", chargePoint="")
node("l2state", "hub-state", z, 330, 130, [["l2dark"]], name="live state",
     hub="hub0000000000001", query="live")
node("l2dark", "switch", z, 530, 130, [["l2on"], ["l2off"]], name="charging after dusk?",
     property='payload.sessions_active > 0 and ($h := $number($substring(payload.local_time, 11, 2)); $h >= $number($env("DUSK_HOUR")) or $h < $number($env("DAWN_HOUR")))',
     propertyType="jsonata", rules=[{"t": "true"}, {"t": "else"}], checkall="true",
     repair=False, outputs=2)
node("l2on", "change", z, 740, 110, [["l2rbe"]], name="ON",
     rules=[{"t": "set", "p": "payload", "pt": "msg", "to": "true", "tot": "bool"}])
node("l2off", "change", z, 740, 150, [["l2rbe"]], name="OFF",
     rules=[{"t": "set", "p": "payload", "pt": "msg", "to": "false", "tot": "bool"}])
node("l2rbe", "rbe", z, 900, 130, [["l2coil"]], name="on change", func="rbe", gap="",
     start="", inout="out", septopics=False, property="payload", topi="topic")
coil_write("l2coil", z, 1080, 130, "${LIGHTS_COIL}", "lights coil")

# 3 GTB
z = "tab3000000000001"
tab(z, "3 · GTB Modbus server", "The hub's data as a Modbus TCP server for the building management system; register table in docs/node-red.md §3")
comment("c3", z, "Holding registers on ${GTB_HOST}:${GTB_PORT}, refreshed every 2 s", "")
node("g3tick", "inject", z, 130, 120, [["g3state"]], name="every 2 s", props=[],
     repeat="2", crontab="", once=True, onceDelay="2", topic="")
node("g3state", "hub-state", z, 310, 120, [["g3table"]], name="live state",
     hub="hub0000000000001", query="live")
node("g3table", "hub-gtb", z, 490, 120, [["g3server"]], name="register table",
     hub="hub0000000000001", site="")
node("g3server", "modbus-server", z, 700, 120, [[], [], [], [], []], name="GTB server",
     logEnabled=False, hostname="${GTB_HOST}", serverPort="${GTB_PORT}", responseDelay=1,
     delayUnit="ms", coilsBufferSize=64, holdingBufferSize=10000, inputBufferSize=64,
     discreteBufferSize=64, showErrors=True, showStatusActivities=False)

# 4 MQTT
z = "tab4000000000001"
tab(z, "4 · MQTT", "States and events to an MQTT broker; commands from MQTT. docs/node-red.md §4")
comment("c4", z, "Publishes ${MQTT_PREFIX}/event/…, ${MQTT_PREFIX}/alert/…, ${MQTT_PREFIX}/state/live (retained); commands on ${MQTT_COMMAND_TOPIC}", "")
node("m4events", "hub-events", z, 140, 100, [["m4topic"]], name="events and alerts",
     hub="hub0000000000001", topics="event.*, alert.*", chargePoint="")
node("m4topic", "change", z, 370, 100, [["m4out"]], name="topic → MQTT",
     rules=[{"t": "set", "p": "topic", "pt": "msg",
             "to": '$env("MQTT_PREFIX") & "/" & $replace(topic, ".", "/")', "tot": "jsonata"},
            {"t": "delete", "p": "hub", "pt": "msg"}])
node("m4tick", "inject", z, 140, 160, [["m4state"]], name="every 10 s", props=[],
     repeat="10", crontab="", once=True, onceDelay="3", topic="")
node("m4state", "hub-state", z, 320, 160, [["m4statetopic"]], name="live state",
     hub="hub0000000000001", query="live")
node("m4statetopic", "change", z, 510, 160, [["m4retained"]], name="state/live",
     rules=[{"t": "set", "p": "topic", "pt": "msg", "to": '$env("MQTT_PREFIX") & "/state/live"',
             "tot": "jsonata"}])
node("m4out", "mqtt out", z, 720, 100, None, name="publish", topic="", qos="0", retain="false",
     respTopic="", contentType="", userProps="", correl="", expiry="", broker="mqtt000000000001")
node("m4retained", "mqtt out", z, 720, 160, None, name="publish (retained)", topic="", qos="1",
     retain="true", respTopic="", contentType="", userProps="", correl="", expiry="",
     broker="mqtt000000000001")
node("m4in", "mqtt in", z, 140, 240, [["m4cmd"]], name="commands", topic="${MQTT_COMMAND_TOPIC}",
     qos="1", datatype="json", broker="mqtt000000000001", nl=False, rap=True, rh=0, inputs=0)
node("m4cmd", "hub-command", z, 340, 240, [["m4ok"]], name="to the hub",
     hub="hub0000000000001", command="", chargePoint="", commandName="")
node("m4catch", "catch", z, 340, 300, [["m4err"]], name="refused", scope=["m4cmd"],
     uncaught=False)
node("m4ok", "change", z, 540, 240, [["m4out"]], name="reply",
     rules=[{"t": "set", "p": "topic", "pt": "msg", "to": '$env("MQTT_PREFIX") & "/reply"',
             "tot": "jsonata"}])
node("m4err", "change", z, 540, 300, [["m4out"]], name="refusal",
     rules=[{"t": "set", "p": "payload", "pt": "msg",
             "to": '{"request": payload, "error": error.message}', "tot": "jsonata"},
            {"t": "set", "p": "topic", "pt": "msg", "to": '$env("MQTT_PREFIX") & "/reply"',
             "tot": "jsonata"}])

# 5 webhook
z = "tab5000000000001"
tab(z, "5 · Alert webhook", "Every hub alert POSTed as JSON to a webhook. docs/node-red.md §5")
comment("c5", z, "alert.* → POST ${ALERT_WEBHOOK_URL}", "")
node("w5alerts", "hub-events", z, 130, 120, [["w5body"]], name="alerts",
     hub="hub0000000000001", topics="alert.*", chargePoint="")
node("w5body", "change", z, 330, 120, [["w5post"]], name="JSON body",
     rules=[{"t": "set", "p": "payload", "pt": "msg",
             "to": '{"alert": $substringAfter(topic, "alert."), "detail": payload, "seq": hub.seq, "ts": hub.ts}',
             "tot": "jsonata"},
            {"t": "set", "p": "headers", "pt": "msg", "to": '{"content-type": "application/json"}',
             "tot": "json"}])
node("w5post", "http request", z, 540, 120, [["w5status"]], name="POST webhook", method="POST",
     ret="txt", paytoqs="ignore", url="${ALERT_WEBHOOK_URL}", tls="", persist=False, proxy="",
     insecureHTTPParser=False, authType="", senderr=True, headers=[])
node("w5status", "debug", z, 740, 120, None, name="webhook answer", active=False, tosidebar=True,
     console=False, tostatus=True, complete="statusCode", targetType="msg",
     statusVal="statusCode", statusType="auto")
# The demo's receiver (the default ALERT_WEBHOOK_URL): alerts shown in the debug sidebar.
comment("c5b", z, "Demo receiver: POST /hub-alerts on this Node-RED (replace by your webhook)", "", 220)
node("w5in", "http in", z, 150, 280, [["w5show", "w5ok"]], name="", url="/hub-alerts",
     method="post", upload=False, swaggerDoc="")
node("w5show", "debug", z, 380, 260, None, name="alert received", active=True, tosidebar=True,
     console=False, tostatus=True, complete="payload", targetType="msg",
     statusVal="payload.alert", statusType="msg")
node("w5ok", "http response", z, 370, 310, None, name="204", statusCode="204", headers={})

# 6 solar cap
z = "tab6000000000001"
tab(z, "6 · Morning cap before the solar peak", "Weekdays 08:00: charging capped for ${SOLAR_CAP_EXPIRES_S} s (3 h) so that cars still need energy when the PV peaks at midday. docs/node-red.md §6")
comment("c6", z, "Mon–Fri 08:00 → ${SOLAR_CAP_TARGET} limited to ${SOLAR_CAP_A} A, expires after ${SOLAR_CAP_EXPIRES_S} s (3 h: 11:00)", "")
node("s6cron", "inject", z, 140, 120, [["s6limit"]], name="Mon–Fri 08:00", props=[],
     repeat="", crontab="00 08 * * 1,2,3,4,5", once=False, onceDelay="0.1", topic="")
node("s6limit", "hub-limit", z, 380, 120, [[]], name="morning cap", hub="hub0000000000001",
     target="${SOLAR_CAP_TARGET}", unit="A", limit="${SOLAR_CAP_A}",
     expiresInS="${SOLAR_CAP_EXPIRES_S}",
     onExpiry="release", fallback="", source="")
node("s6clear", "inject", z, 140, 180, [["s6limit"]], name="lift it now",
     props=[{"p": "payload"}], repeat="", crontab="", once=False, onceDelay="0.1", topic="clear",
     payload="", payloadType="date")

import pathlib
out = pathlib.Path(__file__).resolve().parents[1] / "flows.json"
json.dump(F, out.open("w"), indent=2, ensure_ascii=False)
print(len(F), "nodes")
