"""The hub's sentences in French, keyed by their English template (see :mod:`hub_engine.i18n`).

Key names (``limit_a``), values and configuration words (``role: io``, ``dc: true``) stay
as they are written in hub.yaml: they are what the user has to type.
"""

from __future__ import annotations

__all__ = ["FR"]

FR: dict[str, str] = {
    # The checker's own sentences (typed.py) and the names of what it expects.
    "got {value}, expected {expected}": "valeur {value}, attendu : {expected}",
    "got {value}, expected a finite number": "valeur {value}, attendu : un nombre fini",
    "got {count} items, expected {expected}": "{count} éléments, attendu : {expected}",
    "unknown key; expected one of: {keys}": "clé inconnue ; clés possibles : {keys}",
    "missing; expected {expected}": "manquant ; attendu : {expected}",
    "a list of {item}": "une liste (éléments : {item})",
    "a mapping of {item}": "une table (valeurs : {item})",
    "a mapping": "une table",
    "an integer": "un entier",
    "a number": "un nombre",
    "a string": "un texte",
    "true or false": "true ou false",
    "{first} or {second}": "{first} ou {second}",
    # Reading the file (loader.py).
    "not valid YAML at {where}: {error}": "YAML invalide ({where}) : {error}",
    "nested deeper than {depth} levels": "imbriqué sur plus de {depth} niveaux",
    "expected a mapping at the top, got {kind}": "une table attendue au premier niveau, "
                                                 "trouvé : {kind}",
    "expected a mapping": "une table attendue",
    "'simulation' needs a simulation section": "'simulation' demande une section simulation",
    "simulation.meter_port is 0: no simulated meter is served":
        "simulation.meter_port vaut 0 : aucun compteur simulé n'est servi",
    # Values and their ranges (schema.py and the dataclasses it builds).
    "got {value!r}, expected a number > 0": "valeur {value!r}, attendu : un nombre > 0",
    "got {value!r}, expected a TCP port 0..65535 (0 = pick a free one)":
        "valeur {value!r}, attendu : un port TCP 0..65535 (0 = un port libre au hasard)",
    "expected a number ≥ 0": "attendu : un nombre ≥ 0",
    "got {value!r}, expected ≥ 0": "valeur {value!r}, attendu : ≥ 0",
    "got {value!r}, expected a number ≥ 0": "valeur {value!r}, attendu : un nombre ≥ 0",
    "got {value!r}, expected a load ≥ 0 A": "valeur {value!r}, attendu : une charge ≥ 0 A",
    "got {value!r}, expected 1..4": "valeur {value!r}, attendu : 1..4",
    "got {value!r}, expected a non-empty id without '/'":
        "valeur {value!r}, attendu : un identifiant non vide sans '/'",
    "got {value!r}, expected HH:MM": "valeur {value!r}, attendu : HH:MM",
    "got {value!r}, expected numbers": "valeur {value!r}, attendu : des nombres",
    "got {value!r}, expected distinct grid phases 0..2":
        "valeur {value!r}, attendu : des phases du réseau distinctes 0..2",
    "got {value}, expected a standard rate": "valeur {value}, attendu : un débit standard",
    "got {unit!r}, expected one of: {units}": "valeur {unit!r}, attendu : {units}",
    "must be ≥ 0": "doit être ≥ 0",
    "got {value!r}, expected an e-mail address": "valeur {value!r}, attendu : une adresse "
                                                 "e-mail",
    "expected 0 to 99": "attendu : 0 à 99",
    "got {value!r}, expected an http(s):// URL": "valeur {value!r}, attendu : une URL http(s)://",
    "expected more than 0, at most 1": "attendu : plus de 0, au plus 1",
    "give client_secret or client_secret_file": "donnez client_secret ou client_secret_file",
    "expected at least one window": "au moins une plage est attendue",
    "got {value!r}, expected at least 900 (RTE's rate limit)":
        "valeur {value!r}, attendu : au moins 900 (la limite de fréquence de RTE)",
    "source rte needs client_id and client_secret (or client_secret_file)":
        "la source rte demande client_id et client_secret (ou client_secret_file)",
    "expected samples_full_resolution_days ≤ samples_hourly_after_days ≤ "
    "samples_daily_after_days": "attendu : samples_full_resolution_days ≤ "
                                "samples_hourly_after_days ≤ samples_daily_after_days",
    "got {value}, expected a divisor of 3600 (buckets fold into hours)":
        "valeur {value}, attendu : un diviseur de 3600 (les intervalles se regroupent en "
        "heures)",
    "got {value!r}, expected 1..65535": "valeur {value!r}, attendu : 1..65535",
    "give password or password_file, not both": "donnez password ou password_file, pas les deux",
    "got {value}, expected under 4096 (FAT32 refuses files of 4 GiB)":
        "valeur {value}, attendu : moins de 4096 (FAT32 refuse les fichiers de 4 Gio)",
    "must be > 0": "doit être > 0",
    "must be at least 3 × cycle_s": "doit valoir au moins 3 × cycle_s",
    "must be between 0 and non_ev_window_s": "doit être entre 0 et non_ev_window_s",
    "must be longer than poll_interval_s": "doit être plus long que poll_interval_s",
    "expected a non-empty id": "attendu : un identifiant non vide",
    "expected at least one site": "au moins un site est attendu",
    "id {ident!r} is used twice": "l'identifiant {ident!r} est utilisé deux fois",
    "node ids must be unique": "les identifiants de nœuds doivent être uniques",
    "port {port} is also {other}": "le port {port} est aussi {other}",
    # Security and the web server.
    "tls_cert_file and tls_key_file go together":
        "tls_cert_file et tls_key_file vont ensemble",
    "tls: operator needs tls_cert_file and tls_key_file":
        "tls: operator demande tls_cert_file et tls_key_file",
    "{count} of {threads} threads: one client could hold them all":
        "{count} fils sur {threads} : un seul client pourrait tous les occuper",
    "an AuthorizationKey has 16 to 40 characters":
        "une AuthorizationKey a de 16 à 40 caractères",
    # The EMS's timing rules.
    "{window:g} s is shorter than cycle_s + confirm_settle_s ({cycle:g} + {settle:g} s): "
    "a decrease could not be confirmed within it":
        "{window:g} s est plus court que cycle_s + confirm_settle_s ({cycle:g} + {settle:g} "
        "s) : une baisse ne pourrait pas y être confirmée",
    "{timeout:g} s + cycle_s ({cycle:g} s) is longer than reaction_window_s ({window:g} s): "
    "a decrease whose answer is lost would not be sent again within it":
        "{timeout:g} s + cycle_s ({cycle:g} s) est plus long que reaction_window_s "
        "({window:g} s) : une baisse dont la réponse se perd ne serait pas renvoyée à temps",
    "{timeout:g} s is longer than reaction_window_s ({window:g} s)":
        "{timeout:g} s est plus long que reaction_window_s ({window:g} s)",
    # The site tree and its charge points.
    "a DC charge point needs max_power_w": "une borne DC demande max_power_w",
    "{current:g} A: an AC connector with {phases} phase(s) carries at most {most:g} A "
    "(IEC 62196-2); is it a DC charger (dc: true)?":
        "{current:g} A : un connecteur AC à {phases} phase(s) porte au plus {most:g} A "
        "(IEC 62196-2) ; est-ce une borne DC (dc: true) ?",
    "{margin:g} A is at or above limit_a {limit:g} A: nothing would be left for charging":
        "{margin:g} A atteint ou dépasse limit_a {limit:g} A : il ne resterait rien pour "
        "la recharge",
    "the grid connection needs limit_a, limit_va or limit_w":
        "le raccordement au réseau demande limit_a, limit_va ou limit_w",
    "{current:g} A is above every connector's max_current_a: no car could ever charge":
        "{current:g} A dépasse le max_current_a de tous les connecteurs : aucune voiture ne "
        "pourrait jamais charger",
    "no meter with id {meter!r} in meters": "aucun compteur {meter!r} dans meters",
    "no node {node!r} in the site tree": "aucun nœud {node!r} dans l'arbre du site",
    "no node {node!r}": "aucun nœud {node!r}",
    "the tree has a cycle through {node!r}": "l'arbre a une boucle qui passe par {node!r}",
    "{path}.limit_a: {limit:g} A is above its parent {parent!r} ({parent_limit:g} A); the "
    "EMS keeps both, so the parent's rating is what the board gets":
        "{path}.limit_a : {limit:g} A dépasse son parent {parent!r} ({parent_limit:g} A) ; "
        "l'EMS respecte les deux, le tableau n'aura donc que le calibre du parent",
    "charge point {cp}: {kw:g} kW is above the 25 kW of Advenir ZNI (not eligible)":
        "borne {cp} : {kw:g} kW dépasse les 25 kW d'Advenir ZNI (non éligible)",
    "max_current_a must be ≥ 0 and weight > 0": "max_current_a doit être ≥ 0 et weight > 0",
    "a W-controlled or DC connector needs max_power_w":
        "un connecteur piloté en W ou DC demande max_power_w",
    # Devices, their templates and buses.
    "a {role} device belongs to a node of the tree":
        "un appareil {role} appartient à un nœud de l'arbre",
    "the node's limit while the generator runs": "la limite du nœud quand le groupe tourne",
    "sunspec discovery is for inverters (role pv)":
        "la découverte SunSpec est pour les onduleurs (role pv)",
    "0-based wire address 0..65535": "adresse sur le bus, à partir de 0 : 0..65535",
    "0-based wire addresses 0..65535 (see docs/devices.md)":
        "adresses sur le bus, à partir de 0 : 0..65535 (voir docs/devices.md)",
    "a {function} input limits a node: give node and limit_a":
        "une entrée {function} limite un nœud : donnez node et limit_a",
    "no I/O device {device!r} in devices (role: io)":
        "aucun module d'E/S {device!r} dans devices (role: io)",
    "{name} is a {kind} template, expected a {expected}":
        "{name} est un modèle {kind}, attendu : {expected}",
    "{key} is set differently at {other}: devices on one bus share its settings":
        "{key} est réglé autrement à {other} : les appareils d'un même bus partagent ses "
        "réglages",
    "a {kind} needs a template": "un appareil {kind} demande un modèle (template)",
    "'simulated' needs a simulation: section": "'simulated' demande une section simulation:",
    "no template {name!r} (shipped: {known})": "aucun modèle {name!r} (fournis : {known})",
    "not valid YAML: {error}": "YAML invalide : {error}",
    "nested too deep": "imbriqué trop profondément",
    "cannot read the configuration file: {why}": "impossible de lire le fichier de "
                                                 "configuration : {why}",
    "RS-485 bus {bus}: {devices} devices need {busy:.2f} s of bus time per second (at most "
    "{most:.1f}); poll them less often (poll_interval_s), raise the baud rate or split the "
    "bus": "bus RS-485 {bus} : {devices} appareils demandent {busy:.2f} s de bus par seconde "
           "(au plus {most:.1f}) ; interrogez-les moins souvent (poll_interval_s), augmentez "
           "le débit ou coupez le bus en deux",
    "give host (Modbus TCP) or serial (RTU), not both":
        "donnez host (Modbus TCP) ou serial (RTU), pas les deux",
    "stopbits 1 or 2, bytesize 7 or 8": "stopbits 1 ou 2, bytesize 7 ou 8",
    "a Modbus unit id is 0..247": "un numéro d'esclave Modbus est entre 0 et 247",
    "one address, or three (L1, L2, L3)": "une adresse, ou trois (L1, L2, L3)",
    "a {kind} template needs {name}": "un modèle {kind} demande {name}",
    "a meter template needs the three phase currents":
        "un modèle de compteur demande les courants des trois phases",
    "only a battery takes a power setpoint": "seule une batterie prend une consigne de puissance",
    "a setpoint is a holding register": "une consigne est un registre holding",
    "give --template NAME (or --sunspec)": "donnez --template NOM (ou --sunspec)",
    "no Modbus or TIC device {id!r} in the configuration":
        "aucun appareil Modbus ou TIC {id!r} dans la configuration",
    # Any error with its key path (errors.ConfigError).
    "{prefix}{path}: {message}": "{prefix}{path} : {message}",
    # Access control: member windows and the CSV of members and badges (access/csvio.py).
    "{text!r} is not a day (Mon…Sun, lun…dim)": "{text!r} n'est pas un jour (lun…dim, Mon…Sun)",
    "{text!r}: a day or a range of days": "{text!r} : un jour ou une suite de jours",
    "{text!r} is not an hour (07:00 or 7h30)": "{text!r} n'est pas une heure (07:00 ou 7h30)",
    "window {item!r}: {why}": "plage {item!r} : {why}",
    "expected like 'Mon-Fri 07:00-19:00' or 'lun-ven 7h-19h'":
        "attendu comme 'lun-ven 7h-19h' ou 'Mon-Fri 07:00-19:00'",
    "{name}: got {value!r}, expected a whole number": "{name} : valeur {value!r}, attendu : "
                                                      "un nombre entier",
    "{name}: got {value!r}, expected a number": "{name} : valeur {value!r}, attendu : un nombre",
    "{name}: got {value:g}, expected 6 to 80 A": "{name} : valeur {value:g}, attendu : 6 à 80 A",
    "member and id_tag are required": "member et id_tag sont obligatoires",
    "id_tag {tag!r}: at most 20 characters (OCPP idTag)":
        "id_tag {tag!r} : 20 caractères au plus (idTag OCPP)",
    "{name}: got {value!r}, expected one of {choices}":
        "{name} : valeur {value!r}, attendu : {choices}",
    "expiry: got {value!r}, expected an ISO time with offset":
        "expiry : valeur {value!r}, attendu : une heure ISO avec son décalage",
    "charge_points: no charge point or node {place!r}":
        "charge_points : aucune borne ni aucun nœud {place!r}",
    "nothing imported: {why}": "rien n'est importé : {why}",
    "line {line}: {message}": "ligne {line} : {message}",
    "the header needs the columns {columns}": "l'en-tête doit avoir les colonnes {columns}",
    "id_tag {tag!r} is also on line {line}": "id_tag {tag!r} est aussi à la ligne {line}",
    "weekdays 0 (Monday) to 6 (Sunday)": "jours 0 (lundi) à 6 (dimanche)",
    "a window needs a start and an end that differ":
        "une plage demande un début et une fin différents",
    # The API's answers (api/): accounts, sign-in, resources that do not exist.
    "password: at least {count} characters": "password : {count} caractères au moins",
    "login: 2-32 characters: a-z 0-9 . _ - (lower case)":
        "login : 2 à 32 caractères : a-z 0-9 . _ - (en minuscules)",
    "role: one of {roles}": "role : un de {roles}",
    "login: {login!r} exists already": "login : {login!r} existe déjà",
    "the last active administrator cannot be demoted or disabled":
        "le dernier administrateur actif ne peut être ni rétrogradé ni désactivé",
    "the two passwords differ": "les deux mots de passe diffèrent",
    "no user {login!r}": "aucun utilisateur {login!r}",
    "too many failed sign-ins; retry in {wait:.0f} s":
        "trop de connexions échouées ; réessayez dans {wait:.0f} s",
    "wrong login or password": "identifiant ou mot de passe incorrect",
    "a token cannot have a higher role than its creator":
        "un jeton ne peut pas avoir un rôle plus élevé que son créateur",
    "no active API token {token}": "aucun jeton d'API actif {token}",
    "sign in first: Authorization: Bearer <token>":
        "connectez-vous d'abord : Authorization: Bearer <jeton>",
    "your role does not allow this": "votre rôle ne le permet pas",
    "internal error (logged by the hub)": "erreur interne (consignée dans le journal du hub)",
    "no member {name!r}": "aucun membre {name!r}",
    "member: no member {name!r}": "member : aucun membre {name!r}",
    "an idTag has 1 to 20 characters": "un idTag a de 1 à 20 caractères",
    "no badge {tag!r}": "aucun badge {tag!r}",
    "no charge point {cp!r}": "aucune borne {cp!r}",
    "no charge point {cp!r} has connected yet": "aucune borne {cp!r} ne s'est encore connectée",
    "no session {id}": "aucune session {id}",
    "{key}: out of range": "{key} : hors limites",
    "out of range": "hors limites",
    "{limit} live streams already open; poll /api/v1/live":
        "{limit} flux en direct déjà ouverts ; interrogez /api/v1/live",
    "this hub has no local CA": "ce hub n'a pas d'autorité de certification locale",
    "this engine was not started by `hub run` and cannot restart itself: restart its service":
        "ce moteur n'a pas été lancé par `hub run` et ne peut pas redémarrer seul : "
        "redémarrez son service",
    # Commands to charge points (ocpp/commands.py, api/routes_charge_points.py).
    "the body is a JSON object of the command's fields":
        "le corps est un objet JSON des champs de la commande",
    "no command {name!r}; see /api/v1/command-types":
        "aucune commande {name!r} ; voir /api/v1/command-types",
    "no command {name!r}": "aucune commande {name!r}",
    "unknown command {name!r}; known: {known}": "commande inconnue {name!r} ; connues : {known}",
    "{name} needs the {role} role": "{name} demande le rôle {role}",
    "{name}: {why}": "{name} : {why}",
    "{key} is set by the hub itself; ask the EMS instead":
        "{key} est réglé par le hub lui-même ; passez par l'EMS",
    "the OCPP server is not running": "le serveur OCPP ne tourne pas",
    # Limits and priorities given to the EMS (ems/external.py, ems/priorities.py).
    "the EMS is not running": "l'EMS ne tourne pas",
    "no limit on {target!r} from {source!r}": "aucune limite sur {target!r} venant de {source!r}",
    "target: no node or connector {target!r}": "target : aucun nœud ni connecteur {target!r}",
    "source: must not be empty": "source : ne doit pas être vide",
    "limit_a or limit_w is required": "limit_a ou limit_w est obligatoire",
    "{name}: got {value!r}, expected a number ≥ 0":
        "{name} : valeur {value!r}, attendu : un nombre ≥ 0",
    "expires_at: a time with its UTC offset is required":
        "expires_at : une heure avec son décalage UTC est obligatoire",
    "expires_at: must be in the future, at most 7 days ahead":
        "expires_at : doit être dans le futur, à 7 jours au plus",
    "on_expiry hold needs fallback_a or fallback_w":
        "on_expiry hold demande fallback_a ou fallback_w",
    "tier: an integer from 1 to {most}": "tier : un entier de 1 à {most}",
    "expires_in_s: in the future, at most 7 days ahead":
        "expires_in_s : dans le futur, à 7 jours au plus",
    # Backups (store/backup.py, ops/backups.py, cli_backup.py).
    "this engine makes no backups": "ce moteur ne fait pas de sauvegardes",
    "store.backup_dir is not set: give a folder":
        "store.backup_dir n'est pas réglé : donnez un dossier",
    "a backup is already running": "une sauvegarde est déjà en cours",
    "give --config PATH: where the restored configuration goes":
        "donnez --config CHEMIN : où va la configuration restaurée",
    "{path} exists: give --force to replace it": "{path} existe : donnez --force pour le remplacer",
    "this backup holds no configuration": "cette sauvegarde ne contient pas de configuration",
    "{name}: integrity check failed ({why})": "{name} : contrôle d'intégrité en échec ({why})",
    "{name}: not a sound database ({why})": "{name} : base de données invalide ({why})",
    "not enough room in {folder} for the copies ({need} MB needed, {free} MB free)":
        "pas assez de place dans {folder} pour les copies ({need} Mo nécessaires, {free} Mo "
        "libres)",
    "no database {name} in {folder}": "aucune base {name} dans {folder}",
    "{name}: unreadable archive ({why})": "{name} : archive illisible ({why})",
    "{name}: unexpected entry {entry!r}": "{name} : entrée inattendue {entry!r}",
    "{name}: {entry!r} is not in its manifest": "{name} : {entry!r} n'est pas dans son manifeste",
    "{name}: {entry} differs from what was saved": "{name} : {entry} diffère de ce qui a été "
                                                   "sauvegardé",
    "{name}: incomplete archive": "{name} : archive incomplète",
    "{name}: row counts differ from its manifest":
        "{name} : les nombres de lignes diffèrent de son manifeste",
    "{folder} already holds a hub's data: stop that hub and give --force to replace it":
        "{folder} contient déjà les données d'un hub : arrêtez ce hub et donnez --force pour "
        "les remplacer",
    # Alerts (alerts/) and e-mail (ops/mail.py, api/routes_alerts.py).
    "{target}: {kind}": "{target} : {kind}",
    "{target}: fault {code} (vendor code {vendor}) {info}":
        "{target} : défaut {code} (code constructeur {vendor}) {info}",
    "{target}: off the network": "{target} : hors réseau",
    "the grid signal ({target}) is unknown: the {assumed} case is assumed":
        "le signal réseau ({target}) est inconnu : le cas {assumed} est retenu",
    "{target}: the device does not answer ({why})": "{target} : l'appareil ne répond pas ({why})",
    "{target}: the EMS holds cars back at the site's limit ({limit} A)":
        "{target} : l'EMS bride des voitures à la limite du site ({limit} A)",
    "{target}: charging without energy for {minutes} min":
        "{target} : en charge sans énergie depuis {minutes} min",
    "{target}: only {free_pct}% of the disk free": "{target} : seulement {free_pct} % du disque "
                                                   "libre",
    "the backup failed: {why}": "la sauvegarde a échoué : {why}",
    "{target}: the charge point does not apply its limit":
        "{target} : la borne n'applique pas sa limite",
    "{target}: the car draws above its limit": "{target} : la voiture tire au-delà de sa limite",
    "warning": "avertissement",
    "critical": "critique",
    "raised": "levée",
    "cleared": "terminée",
    "[{site}] {severity}: {message}": "[{site}] {severity} : {message}",
    "[{site}] cleared: {message}": "[{site}] terminée : {message}",
    "{message}\n\nAlert {id} ({kind}) on {target}, {what} at {time}.\n"
    "Acknowledge it on the hub's Alerts page.\n":
        "{message}\n\nAlerte {id} ({kind}) sur {target}, {what} à {time}.\n"
        "Acquittez-la sur la page Alertes du hub.\n",
    "this engine raises no alerts": "ce moteur ne lève pas d'alertes",
    "no alert {id}": "aucune alerte {id}",
    "no mail server is configured (mail: in hub.yaml)":
        "aucun serveur de messagerie n'est configuré (mail: dans hub.yaml)",
    "[{site}] test e-mail": "[{site}] e-mail de test",
    "This test e-mail was sent by the charging hub at the request of {user}.":
        "Cet e-mail de test a été envoyé par le hub de recharge à la demande de {user}.",
    "the mail server refused the login of {user!r}":
        "le serveur de messagerie a refusé l'identifiant {user!r}",
    "mail to {to} not sent: {why}": "e-mail à {to} non envoyé : {why}",
    # History, the Excel workbook and the reports (history/, api/routes_history.py).
    "since must be before until": "since doit précéder until",
    "{n} periods: at most {most}; choose a longer period or a shorter range":
        "{n} périodes : {most} au plus ; choisissez une période plus longue ou un intervalle "
        "plus court",
    "reports need a mail server (mail:) and a recipient (reports.to)":
        "les rapports demandent un serveur de messagerie (mail:) et un destinataire "
        "(reports.to)",
    "site": "site",
    "board": "tableau",
    "group": "groupe",
    "charge point": "borne",
    "member": "membre",
    "badge": "badge",
    "Summary": "Résumé",
    "key": "selon",
    "Site": "Site",
    "Energy": "Énergie",
    "Period": "Période",
    "Sessions": "Sessions",
    "Energy (kWh)": "Énergie (kWh)",
    "Duration (h)": "Durée (h)",
    "Consumption (kWh, estimated)": "Consommation (kWh, estimée)",
    "Charging (kWh)": "Recharge (kWh)",
    "PV (kWh)": "PV (kWh)",
    "Session": "Session",
    "Charge point": "Borne",
    "Connector": "Connecteur",
    "Badge": "Badge",
    "Member": "Membre",
    "Started (local)": "Début (heure locale)",
    "Stopped (local)": "Fin (heure locale)",
    "Stop reason": "Motif de fin",
    "From (local)": "Du (heure locale)",
    "To (local, excluded)": "Au (heure locale, exclu)",
    "[{site}] {kind} report {period}": "[{site}] rapport {kind} {period}",
    "weekly": "hebdomadaire",
    "monthly": "mensuel",
    "{sessions} sessions, {kwh} kWh charged ({period}).":
        "{sessions} sessions, {kwh} kWh rechargés ({period}).",
    "Most used charge points:": "Bornes les plus utilisées :",
    "The attached workbook has every session and the energy per day.":
        "Le classeur joint contient chaque session et l'énergie par jour.",
    # Grid signals (signals/).
    "no record with a date and a signal 0 or 1": "aucun enregistrement avec une date et un "
                                                 "signal 0 ou 1",
    "the portal's answer is not JSON (a retired portal answers with an HTML page)":
        "la réponse du portail n'est pas du JSON (un portail retiré répond par une page HTML)",
    "the portal answered HTTP {code} {reason}": "le portail a répondu HTTP {code} {reason}",
    "the portal cannot be reached: {why}": "le portail est injoignable : {why}",
    "the Tempo answer has no dateJour": "la réponse Tempo n'a pas de dateJour",
    "RTE gave no access token": "RTE n'a pas donné de jeton d'accès",
    "the EcoWatt answer has no signals": "la réponse EcoWatt n'a pas de signals",
    "the EcoWatt answer has no hourly values": "la réponse EcoWatt n'a aucune valeur horaire",
    "the Tempo answer has no tempo_like_calendars.values":
        "la réponse Tempo n'a pas de tempo_like_calendars.values",
    "the portal's answer has no records": "la réponse du portail ne contient aucun "
                                          "enregistrement",
    "the portal's quota is used up: retry in {s} s": "le quota du portail est épuisé : "
                                                     "nouvel essai dans {s} s",
    "{mode!r} needs a meter on the grid connection (grid.meter) to see the export":
        "{mode!r} demande un compteur au point de raccordement (grid.meter) pour voir "
        "l'injection",
    "charge point {cp}: solar {mode!r} needs a meter on the grid connection (grid.meter) "
    "to see the export": "borne {cp} : le mode solaire {mode!r} demande un compteur au "
                         "point de raccordement (grid.meter) pour voir l'injection",
    "got {value!r}, expected 0 to 90°": "valeur {value!r}, attendu : de 0 à 90°",
    "got {value!r}, expected a compass bearing 0 to 360° (180 = south)":
        "valeur {value!r}, attendu : un cap de 0 à 360° (180 = sud)",
    "got {value!r}, expected 0 to 100 %": "valeur {value!r}, attendu : de 0 à 100 %",
    "{value:g} s: at least 60 s (Open-Meteo's free terms: under 600 calls a minute, "
    "10,000 a day)": "{value:g} s : au moins 60 s (conditions gratuites d'Open-Meteo : moins "
                     "de 600 appels par minute, 10 000 par jour)",
    "got {value!r}, expected -90 to 90°": "valeur {value!r}, attendu : de -90 à 90°",
    "got {value!r}, expected -180 to 180°": "valeur {value!r}, attendu : de -180 à 180°",
    "expected at least one array": "au moins un champ de panneaux attendu",
    "array ids must be unique": "les identifiants des champs doivent être uniques",
    "{target}: no valid PV forecast ({why})": "{target} : pas de prévision PV valable ({why})",
    "Open-Meteo refused the request: {why}": "Open-Meteo a refusé la requête : {why}",
    "Open-Meteo's answer has no minutely_15 times":
        "la réponse d'Open-Meteo n'a pas d'horodatages minutely_15",
    "Open-Meteo's answer has no {name} for every time":
        "la réponse d'Open-Meteo n'a pas de {name} pour chaque horodatage",
    "Open-Meteo's answer has a malformed value at {time}":
        "la réponse d'Open-Meteo a une valeur malformée à {time}",
    "Open-Meteo's answer has no forecast slot": "la réponse d'Open-Meteo n'a aucun créneau "
                                                "de prévision",
    "since must be before until, at most {days} days before":
        "since doit précéder until, d'au plus {days} jours",
    "a battery's charging power in W (> 0); only for role battery":
        "la puissance de charge d'une batterie en W (> 0) ; seulement pour le rôle battery",
    "site {site} has a battery charged by the hub already ({other})":
        "le site {site} a déjà une batterie chargée par le hub ({other})",
    "{value:g} s: forecast.solar's public plan allows 12 calls an hour, one per array: at "
    "least {least} s for {n} arrays": "{value:g} s : l'offre publique de forecast.solar "
                                      "permet 12 appels par heure, un par champ : au moins "
                                      "{least} s pour {n} champs",
    "forecast.solar refused the request: {why}": "forecast.solar a refusé la requête : {why}",
    "forecast.solar's answer has no watts": "la réponse de forecast.solar n'a pas de watts",
    "forecast.solar's answer has a malformed value at {time}":
        "la réponse de forecast.solar a une valeur malformée à {time}",
    "the key file {file} cannot be read: {why}": "le fichier de clé {file} est illisible : {why}",
    "departure: a time with its timezone": "departure : une heure avec son fuseau horaire",
    "departure: must be in the future, at most 7 days ahead":
        "departure : dans le futur, au plus 7 jours à l'avance",
    "energy_wh: more than 0, at most {most:.0f}": "energy_wh : plus de 0, au plus {most:.0f}",
    "session {id} has ended": "la session {id} est terminée",
    "departure_time: got {value!r}, expected a time like 07:30":
        "departure_time : {value!r} reçu, une heure comme 07:30 attendue",
    "energy_need_wh: got {value}, expected 1 to 500000 Wh":
        "energy_need_wh : {value} reçu, de 1 à 500000 Wh attendu",
    "expected months from 1 to 12": "des mois de 1 à 12 attendus",
    "expected at least one period": "au moins une période attendue",
    "the last period applies the rest of the time: no windows or months on it":
        "la dernière période s'applique le reste du temps : ni plages ni mois",
    "expected 1 to 3": "de 1 à 3 attendu",
    "expected 0 to 0.5": "de 0 à 0,5 attendu",
    "a subscription needs a meter on the grid connection (grid.meter)":
        "une puissance souscrite demande un compteur sur le raccordement (grid.meter)",
    "a battery's discharging power in W (> 0), with its max_charge_w":
        "la puissance de décharge d'une batterie en W (> 0), avec son max_charge_w",
    "got {value!r}, expected 0 % to below max_soc_pct":
        "{value!r} reçu, de 0 % à moins de max_soc_pct attendu",
    "only a three-phase AC charge point limited in A switches phases":
        "seule une borne AC triphasée limitée en A commute ses phases",
    "this engine fetches no diagnostics": "ce moteur ne récupère pas de diagnostics",
    "no diagnostics {id}": "aucun diagnostic {id}",
    "diagnostics {id}: no file received": "diagnostic {id} : aucun fichier reçu",
    "got {value!r}, expected 0..65535": "{value!r} reçu, 0..65535 attendu",
    "must be ≥ 60": "doit être ≥ 60",
    "got {value!r}, expected [first, last] within 1024..65535":
        "{value!r} reçu, [premier, dernier] dans 1024..65535 attendu",
    "listening on every address: give public_host, the address charge points reach the hub at":
        "écoute sur toutes les adresses : donnez public_host, l'adresse à laquelle les bornes "
        "joignent le hub",
    "the FTP server is off: set maintenance.ftp.enabled":
        "le serveur FTP est arrêté : activez maintenance.ftp.enabled",
    "{cp} is not connected": "{cp} n'est pas connectée",
    "{cp} did not take the request: {why}": "{cp} n'a pas pris la demande : {why}",
    "node: no node {node!r}": "node : aucun nœud {node!r}",
    "this engine keeps no firmware": "ce moteur ne garde pas de micrologiciel",
    "give one of charge_points, model or node": "donnez charge_points, model ou node",
    "no campaign {id}": "aucune campagne {id}",
    "model: no charge point of model {model!r}": "model : aucune borne du modèle {model!r}",
    "got {value!r}, expected 1..4096": "{value!r} reçu, 1..4096 attendu",
    "firmware_id: no firmware {id}": "firmware_id : aucun micrologiciel {id}",
    "charge_points: no charge point {cp!r}": "charge_points : aucune borne {cp!r}",
    "name: 1-100 characters, letters, digits and . _ + - (not first)":
        "name : 1 à 100 caractères, lettres, chiffres et . _ + - (pas en premier)",
    "the file is empty": "le fichier est vide",
    "the file is larger than {mb} MB": "le fichier dépasse {mb} Mo",
    "connector {cp}/{n} is reserved already": "le point de charge {cp}/{n} est déjà réservé",
    "no reservation {id}": "aucune réservation {id}",
    "got {value!r}, expected ws://host[:port]/path or wss://…":
        "{value!r} reçu, attendu ws://hôte[:port]/chemin ou wss://…",
    "got {value!r}, expected 0.5..60": "{value!r} reçu, attendu 0,5..60",
    "got {value!r}, expected 1..600": "{value!r} reçu, attendu 1..600",
    "expected 0 < reconnect_min_s <= reconnect_max_s":
        "attendu 0 < reconnect_min_s <= reconnect_max_s",
    "must be ≥ 1000": "doit être ≥ 1000",
    "unknown OCPP call(s) {names}; expected some of {known}":
        "appel(s) OCPP inconnu(s) {names} ; attendu parmi {known}",
    "expected 1 to 255 characters": "attendu de 1 à 255 caractères",
    "cpo_client_cert_file and cpo_client_key_file go together":
        "cpo_client_cert_file et cpo_client_key_file vont ensemble",
    "charge point {cp} has mode cpo: the site needs a cpo section":
        "le point de charge {cp} est en mode cpo : le site a besoin d'une section cpo",
    "charge point {cp} has mode cpo but no cpo_url, and the site's cpo section gives no url":
        "le point de charge {cp} est en mode cpo sans cpo_url, et la section cpo du site "
        "ne donne pas d'url",
    "{target}: the CPO cannot be reached ({why}); {queued} message(s) wait for it":
        "{target} : l'opérateur (CPO) est injoignable ({why}) ; {queued} message(s) "
        "l'attendent",
}
