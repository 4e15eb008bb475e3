"""The example at the foot of each command's ``--help``, by command path."""

from __future__ import annotations

EXAMPLES: dict[str, str] = {
    "": "almasync plan examples/config --emulator demo",
    "validate": "almasync validate config/ --env sandbox",
    "plan": "almasync plan config/ --env production --out plan.json\n"
            "almasync plan config/ --target locations:MAIN/STACKS\n"
            "almasync plan config/ --changed-since origin/main --out plan.json",
    "drift": "almasync drift config/ --env production --include-unmanaged --junit drift.xml",
    "apply": "almasync apply plan.json --auto-approve\n"
             "almasync apply config/ --env sandbox\n"
             "almasync apply config/ --env inst1,inst2",
    "rollback": "almasync rollback config/.almasync/journals/20260101T120000Z-3f2a.json "
                "--env sandbox",
    "export": "almasync export --env production --config config/ --out config/ --overwrite",
    "schema": "almasync schema --out schemas/",
    "jobs": "almasync jobs list --env sandbox",
    "jobs list": "almasync jobs list --type SCHEDULED --env sandbox",
    "jobs run": "almasync jobs run M26714670000011 --set 'New acquisitions 2026' --wait",
    "jobs status": "almasync jobs status M26714670000011 1108569450000121",
    "doctor": "almasync doctor --env sandbox --record captures/",
    "jobs download": "almasync jobs download S99999900000011 8100000030005501 --out vendor.xml",
    "hours": "almasync hours MAIN --from 2026-12-01 --to 2027-01-31 --env production",
    "fees": "almasync fees --from 2026-11-01 --to 2026-11-30 --format csv --out fees.csv",
    "check": "almasync check --env production",
    "report": "almasync report config/ --out site/ --drift drift.json\n"
              "almasync report --env production --out site/",
    "emulator": "almasync emulator --seed demo --port 8899",
}
