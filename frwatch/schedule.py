"""`frwatch schedule`: ready-to-use cron and systemd units for this install.

cron has no "every N minutes" beyond steps within an hour (`*/N` restarts at every full
hour, so `*/45` runs at :00 and :45) and within a day. So the day's run times, every
`every` minutes from midnight, are grouped into as few cron lines as describe exactly
those times: `--every 90` is `0 */3 * * *` plus `30 1-22/3 * * *`. When `every` does not
divide a day, the pattern restarts each midnight, and the printout says so.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from collections import defaultdict
from pathlib import Path

DAY = 24 * 60


def _executable() -> str:
    beside = Path(sys.executable).parent / "frwatch"
    return str(beside if beside.exists() else (shutil.which("frwatch") or "frwatch"))


def _field(values: list[int], size: int) -> str:
    """A cron field for the sorted `values` out of 0 … size-1: `*`, `*/s`, `a-b/s`,
    a single value or a list."""
    if values == list(range(size)):
        return "*"
    if len(values) == 1:
        return str(values[0])
    step = values[1] - values[0]
    if all(b - a == step for a, b in zip(values, values[1:], strict=False)):
        if values[0] == 0 and values[-1] + step >= size and size % step == 0:
            return f"*/{step}"  # only where it means what it says: 45 would be :00, :45
        if len(values) > 3:
            return f"{values[0]}-{values[-1]}/{step}" if step > 1 else f"{values[0]}-{values[-1]}"
    return ",".join(str(v) for v in values)


def cron_times(every: int) -> tuple[list[str], str | None]:
    """The (minute, hour) fields of cron lines that together run every `every` minutes
    from 00:00, and a note when cron cannot keep the interval across midnight."""
    times = range(0, DAY, every)
    hours_by_minute: dict[int, list[int]] = defaultdict(list)
    for t in times:
        hours_by_minute[t % 60].append(t // 60)
    minutes_by_hours: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for minute, hours in sorted(hours_by_minute.items()):
        minutes_by_hours[tuple(hours)].append(minute)
    lines = sorted((f"{_field(minutes, 60)} {_field(list(hours), 24)}", minutes[0], hours[0])
                   for hours, minutes in minutes_by_hours.items())
    fields = [line for line, _, _ in sorted(lines, key=lambda x: (x[2], x[1]))]
    note = None
    if DAY % every:
        last = times[-1]
        note = (f"every {every} minutes from 00:00 to {last // 60:02d}:{last % 60:02d}, "
                f"then {DAY - last} minutes to the next day's 00:00 run (cron restarts "
                "its pattern at midnight; the systemd timer keeps the interval exactly)")
    return fields, note


def render_schedule(config: Path, db: Path, every: int, topic: str = "the configured topic",
                    env_file: Path | None = None) -> str:
    exe = _executable()
    config, db = config.resolve(), db.resolve()
    workdir = config.parent
    log = db.parent / "frwatch-run.log"
    env = f" --env-file {shlex.quote(str(env_file.resolve()))}" if env_file else ""
    command = (f"{shlex.quote(exe)}{env} run --config {shlex.quote(str(config))} "
               f"--db {shlex.quote(str(db))}")
    fields, note = cron_times(every)
    cron = "\n".join(f"{f} * * * cd {shlex.quote(str(workdir))} && {command} >> "
                     f"{shlex.quote(str(log))} 2>&1" for f in fields)
    lines_note = (f"# {len(fields)} lines together: cron cannot say every {every} minutes "
                  "in one line.\n" if len(fields) > 1 else "")
    cron_note = f"# Runs {note}.\n" if note else ""
    secrets = (f"# Secrets for alert URLs (${{VAR}} in the config) are read by frwatch from "
               f"{env_file.resolve()}:\n# one KEY=VALUE a line (chmod 600). Not in the "
               "config, not in the crontab.\n" if env_file else
               "# Alert URLs with ${VAR}: add --env-file PATH (KEY=VALUE lines, chmod 600) "
               "after `frwatch`,\n# or run `frwatch schedule --env-file PATH`.\n")
    description = " ".join(topic.split())
    return f"""# --- crontab (crontab -e) ---------------------------------------------------------
{secrets}{lines_note}{cron_note}{cron}

# --- systemd: ~/.config/systemd/user/frwatch.service ------------------------------
[Unit]
Description=frwatch: crawl, enrich and alert on news about {description}
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={workdir}
ExecStart={command}
Nice=10

# --- systemd: ~/.config/systemd/user/frwatch.timer --------------------------------
[Unit]
Description=Run frwatch ({description}) every {every} minutes

[Timer]
OnBootSec=5min
OnUnitActiveSec={every}min
Persistent=true

[Install]
WantedBy=timers.target

# Enable with: systemctl --user daemon-reload && systemctl --user enable --now frwatch.timer
"""
