"""`frwatch schedule`: ready-to-use cron and systemd units for this install."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _executable() -> str:
    beside = Path(sys.executable).parent / "frwatch"
    return str(beside if beside.exists() else (shutil.which("frwatch") or "frwatch"))


def render_schedule(config: Path, db: Path, every: int) -> str:
    exe = _executable()
    config, db = config.resolve(), db.resolve()
    workdir = config.parent
    log = db.parent / "frwatch-run.log"
    command = f"{exe} run --config {config} --db {db}"
    minutes = f"*/{every}" if every < 60 else "0"
    hours = "*" if every < 60 else f"*/{every // 60}"
    return f"""# --- crontab (crontab -e) ---------------------------------------------------------
{minutes} {hours} * * * cd {workdir} && {command} >> {log} 2>&1

# --- systemd: ~/.config/systemd/user/frwatch.service ------------------------------
[Unit]
Description=frwatch: crawl, enrich and alert on facial-recognition policy news
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={workdir}
ExecStart={command}
# Secrets for alert URLs (${{VAR}} in sources.yaml) belong in this file, not the config:
EnvironmentFile=-%h/.config/frwatch/env
Nice=10

# --- systemd: ~/.config/systemd/user/frwatch.timer --------------------------------
[Unit]
Description=Run frwatch every {every} minutes

[Timer]
OnBootSec=5min
OnUnitActiveSec={every}min
Persistent=true

[Install]
WantedBy=timers.target

# Enable with: systemctl --user daemon-reload && systemctl --user enable --now frwatch.timer
"""
