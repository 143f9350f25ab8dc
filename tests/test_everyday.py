"""Everyday use from the command line (issue 13): alerts you can test and preview,
channels checked when the config loads, --backfill on any run, exact schedules with an
env file for secrets, a crawl that says what broke in one line per source, all config
errors at once, a readable Atom file, and `demo --serve`. Real receivers and webs on
127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from frwatch.config import load_config
from frwatch.db import open_db
from frwatch.schedule import cron_times
from tests.support.alerting import Webhook, with_alerts
from tests.support.crawl import Crawl, run_cli
from tests.support.paths import DEMO_WEB, REPO, TEST_WEBS
from tests.support.smtp import free_port


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "frwatch.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def alert_rows(db: Path) -> list[dict]:
    conn = open_db(db)
    try:
        return list(conn.query("select * from alerts"))
    finally:
        conn.close()


# --- alert --test ----------------------------------------------------------------------

def test_alert_test_reaches_every_channel_and_stores_nothing(enriched, webhook, smtp,
                                                             tmp_path):
    db, config, _ = enriched
    webhook.up()
    down = Webhook()  # never comes up
    with_alerts(config, [
        {"name": "hook", "apprise": f"json://127.0.0.1:{webhook.port}/h"},
        {"name": "mail", "apprise": f"mailto://127.0.0.1:{smtp.port}?from=frwatch@example.org"
                                    "&to=desk@example.org&mode=insecure"},
        {"name": "feed", "atom": str(tmp_path / "out" / "related.atom")},
    ])
    proc = cli("alert", "--test", "--config", str(config), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["ok", "hook:"], ["ok", "mail:"],
                                                    ["ok", "feed:"]]
    assert len(webhook.posts) == 1 and "TEST" in webhook.posts[0]["title"]
    assert "nothing was recorded" in webhook.posts[0]["message"]
    assert len(smtp.messages) == 1 and "TEST" in smtp.messages[0]["Subject"]
    assert alert_rows(db) == []
    assert not (tmp_path / "out" / "related.atom").exists()

    # One channel, by name; and a receiver that is down is reported, exit 1.
    with_alerts(config, [{"name": "hook", "apprise": f"json://127.0.0.1:{webhook.port}/h"},
                         {"name": "down", "apprise": f"json://127.0.0.1:{down.port}/h"}])
    proc = cli("alert", "--test", "--channel", "hook", "--config", str(config), "--db", str(db))
    assert proc.returncode == 0 and proc.stdout.startswith("ok     hook: test message sent")
    assert len(webhook.posts) == 2
    proc = cli("alert", "--test", "--config", str(config), "--db", str(db))
    assert proc.returncode == 1
    assert "FAILED down:" in proc.stdout and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "frwatch: error: 1 of 2 channels failed the test"
    unknown = cli("alert", "--test", "--channel", "nope", "--config", str(config))
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == ("frwatch: error: no alert channel called 'nope' "
                                      "(channels: hook, down)")
    assert alert_rows(db) == []


# --- alert --preview and --backfill ----------------------------------------------------

def test_preview_says_what_would_be_sent_and_backfill_works_on_any_run(enriched, webhook):
    db, config, _ = enriched
    webhook.up()
    with_alerts(config, [{"name": "hook", "max_messages": 1000,
                          "apprise": f"json://127.0.0.1:{webhook.port}/h"}])
    args = ("--config", str(config), "--db", str(db))
    first = cli("alert", "--preview", *args)
    assert first.returncode == 0, first.stderr
    assert "first run:" in first.stdout and "recorded as backlog" in first.stdout
    backfill = cli("alert", "--preview", "--backfill", *args)
    assert backfill.returncode == 0
    messages = backfill.stdout.count("--- message ")
    assert messages > 1 and "[frwatch] " in backfill.stdout and "Why: " in backfill.stdout
    assert webhook.posts == [] and alert_rows(db) == []

    # A first run records the backlog; a later --backfill sends it, once.
    assert "backlog" in cli("alert", *args).stdout
    assert webhook.posts == []
    assert "nothing new to send" in cli("alert", "--preview", *args).stdout
    assert f"--- message {messages}:" in cli("alert", "--preview", "--backfill", *args).stdout
    out = cli("alert", "--backfill", *args)
    assert out.returncode == 0 and f"hook: {messages} sent" in out.stdout
    assert len(webhook.posts) == messages
    assert {r["status"] for r in alert_rows(db)} <= {"sent", "folded"}
    assert cli("alert", "--backfill", *args).stdout.startswith("Alerts: hook: 0 sent")
    assert len(webhook.posts) == messages


# --- channels checked when the config loads --------------------------------------------

def test_bad_scheme_and_unset_variables_fail_before_anything_is_sent(enriched, webhook):
    db, config, _ = enriched
    webhook.up()
    with_alerts(config, [{"name": "hook", "apprise": f"json://127.0.0.1:{webhook.port}/h"},
                         {"apprise": "notascheme://foo"}])
    for command in (["alert"], ["alert", "--test"], ["alert", "--backfill"], ["run"]):
        proc = cli(*command, "--config", str(config), "--db", str(db))
        assert proc.returncode == 1
        assert proc.stderr.strip().splitlines() == [
            f"frwatch: error: {config}: alerts.1: unknown notification scheme 'notascheme':// "
            "(apprise knows e.g. mailto, mailtos, slack, ntfy, ntfys, json, form, discord, "
            "matrix)"]
    with_alerts(config, [{"name": "hook", "apprise": f"json://127.0.0.1:{webhook.port}/h"},
                         {"apprise": "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@x.example"}])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    for command in (["alert"], ["alert", "--test"], ["run"]):
        proc = subprocess.run([sys.executable, "-m", "frwatch.cli", *command, "--config",
                               str(config), "--db", str(db)], cwd=REPO, capture_output=True,
                              text=True, timeout=300, env=env)
        assert proc.returncode == 1
        assert proc.stderr.strip().splitlines() == [
            f"frwatch: error: {config}: alerts.1.apprise: environment variable {name} is "
            "not set" for name in ("SMTP_USER", "SMTP_PASSWORD")]
    assert webhook.posts == [] and alert_rows(db) == []


def test_env_file_fills_in_secrets(enriched, webhook, tmp_path):
    db, config, _ = enriched
    webhook.up()
    with_alerts(config, [{"name": "hook",
                          "apprise": f"json://frwatch:${{HOOK_SECRET}}@127.0.0.1:{webhook.port}/h"}])
    env_file = tmp_path / "env"
    env_file.write_text("# secrets\nexport HOOK_SECRET='s3cr3t value'\n\nOTHER=x\n")
    env = {k: v for k, v in os.environ.items() if k != "HOOK_SECRET"}
    proc = subprocess.run([sys.executable, "-m", "frwatch.cli", "--env-file", str(env_file),
                           "alert", "--test", "--config", str(config), "--db", str(db)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(webhook.posts) == 1
    env_file.write_text("HOOK_SECRET\n")
    proc = cli("--env-file", str(env_file), "alert", "--test", "--config", str(config))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"frwatch: error: {env_file}: line 1: expected KEY=VALUE"


# --- schedule ----------------------------------------------------------------------------

def _expand(field: str, size: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        spec, _, step = part.partition("/")
        if spec == "*":
            low, high = 0, size - 1
        elif "-" in spec:
            low, high = map(int, spec.split("-"))
        else:
            low = high = int(spec)
        values.update(range(low, high + 1, int(step or 1)))
    return values


def cron_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line and line[0] in "0123456789*"
            and "frwatch" in line]


def minutes_of_day(lines: list[str]) -> list[int]:
    times = []
    for line in lines:
        minute, hour, dom, month, dow = line.split()[:5]
        assert (dom, month, dow) == ("*", "*", "*")
        times += [h * 60 + m for h in _expand(hour, 24) for m in _expand(minute, 60)]
    return sorted(times)


@pytest.mark.parametrize("every, count", [(90, 2), (45, 3), (120, 1), (30, 1), (100, 3)])
def test_schedule_runs_at_exactly_the_interval(tmp_path, every, count):
    env_file = tmp_path / "frwatch.env"
    out = run_cli("schedule", "--config", str(DEMO_WEB / "sources.yaml"), "--db",
                  str(tmp_path / "x.db"), "--every", str(every), "--env-file",
                  str(env_file)).stdout
    lines = cron_lines(out)
    assert len(lines) == count
    assert minutes_of_day(lines) == list(range(0, 24 * 60, every))
    if every == 120:
        assert lines[0].startswith("0 */2 * * * ")
    if every == 90:
        assert [line.split()[:2] for line in lines] == [["0", "*/3"], ["30", "1-22/3"]]
    if every == 100:  # cannot divide a day: the printout says what it does
        assert "then 40 minutes to the next day's 00:00 run" in out
    # Secrets: read by frwatch itself, in cron and in the systemd unit alike.
    assert all(f"frwatch --env-file {env_file} run --config" in line for line in lines)
    assert f"ExecStart={Path(sys.executable).parent / 'frwatch'} --env-file {env_file} run" in out
    assert f"OnUnitActiveSec={every}min" in out
    topic = load_config(DEMO_WEB / "sources.yaml").topic.name
    assert f"Description=frwatch: crawl, enrich and alert on news about {topic}" in out


def test_cron_times_cover_a_whole_day_for_every_interval():
    for every in range(5, 1441):
        fields, note = cron_times(every)
        lines = [f"{f} * * * frwatch" for f in fields]
        assert minutes_of_day(lines) == list(range(0, 1440, every)), every
        assert (note is None) == (1440 % every == 0)


def test_help_does_not_name_a_topic():
    out = run_cli("--help").stdout
    assert "facial" not in out.lower()


# --- the crawl's voice -------------------------------------------------------------------

def _sources(web, dead_only: bool) -> str:
    raw = yaml.safe_load(web.rewrite((TEST_WEBS / "faults.yaml").read_text()))
    dead = [{"name": "Dead Refused", "feeds": [f"http://127.0.0.1:{free_port()}/rss.xml"]},
            {"name": "Dead Unresolvable", "feeds": ["http://frwatch-test.invalid/rss.xml"]}]
    raw["sources"] = dead if dead_only else raw["sources"] + dead
    return yaml.safe_dump(raw)


def test_crawl_with_a_dead_source_says_so_in_one_line_and_exits_0(faults_web, tmp_path):
    crawl = Crawl(faults_web, tmp_path, _sources(faults_web, dead_only=False))
    proc = crawl.run("-s", "RETRY_TIMES=0", check=False)
    assert proc.returncode == 0, proc.stderr
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "ERROR" not in output
    failing = [line for line in proc.stdout.splitlines() if line.startswith("  FAILED ")]
    assert sorted(line.split(":")[0] for line in failing) == [
        "  FAILED Dead Refused", "  FAILED Dead Unresolvable"]
    assert any("connection refused" in line for line in failing)
    assert len(output.splitlines()) <= 6
    assert crawl.rows("select count(*) as n from articles")[0]["n"] == 2
    status = run_cli("status", "--config", str(crawl.config), "--db", str(crawl.db_path)).stdout
    assert "connection refused" in status and "never reached" in status


def test_crawl_of_only_dead_sources_exits_1_with_one_line(faults_web, tmp_path):
    crawl = Crawl(faults_web, tmp_path, _sources(faults_web, dead_only=True))
    proc = crawl.run("-s", "RETRY_TIMES=0", check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "frwatch: error: every listing failed (2 of 2); nothing was fetched"]


# --- config errors -----------------------------------------------------------------------

def test_every_config_error_at_once_one_line_each(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("topic: {name: T}\nsources:\n  - name: Nothing to read\n"
                    "  - name: B\n    feeds: [ftp://x]\ncrawl: {delay_seconds: x, bogus: 1}\n")
    proc = cli("crawl", "--config", str(path), "--db", str(tmp_path / "x.db"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"frwatch: error: {path}: sources.0: nothing to read: give at least one of feeds, "
        "sitemaps, pages",
        f"frwatch: error: {path}: sources.1.feeds.0: not an http(s) URL with a host: 'ftp://x'",
        f"frwatch: error: {path}: crawl.delay_seconds: Input should be a valid number, unable "
        "to parse string as a number",
        f"frwatch: error: {path}: crawl.bogus: unknown key"]
    path.write_text("topic: {name: T}\nsources: []\n")
    proc = cli("crawl", "--config", str(path), "--db", str(tmp_path / "x.db"))
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"frwatch: error: {path}: sources: no sources: list at "
                                   "least one (name and feeds, sitemaps or pages)")
    assert not (tmp_path / "x.db").exists()


# --- the Atom file -----------------------------------------------------------------------

def test_atom_file_is_world_readable(tmp_path):
    from alerts.atom_channel import write_atom

    path = tmp_path / "related.atom"
    old = os.umask(0o022)
    try:
        write_atom(path, [{"id": "a1", "url": "https://example.org/a", "title": "A",
                           "description": "word " * 200}], title="t")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    summary = path.read_text().split("<summary>")[1].split("</summary>")[0]
    assert summary.endswith("word…")


# --- demo --serve ------------------------------------------------------------------------

def test_demo_serve_keeps_the_demo_web_up_until_ctrl_c(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "frwatch.cli", "demo", "--crawl-only",
                             "--serve", "--port", str(port), "--db", str(tmp_path / "demo.db")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        assert proc.stdout is not None  # a pipe: read when the demo stops early
        deadline = time.monotonic() + 300
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = (f"http://127.0.0.1:{port}/frwatch.json?sql=select+url+from+articles+"
                       "limit+1&_shape=array")
                with urllib.request.urlopen(url, timeout=5) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                time.sleep(1)
        assert page, proc.stdout.read() if proc.poll() is not None else "not serving"
        import json

        article = json.loads(page)[0]["url"]
        assert article.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(article, timeout=5) as answer:  # the link still opens
            assert answer.status == 200
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        assert proc.wait(timeout=60) == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(article, timeout=5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_readme_alert_examples_are_valid_channels():
    from frwatch.config import Alert

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(part for part in readme.split("```yaml")[1:]
                 if "slack://" in part.split("```")[0]).split("```")[0]
    alerts = [Alert.model_validate(a) for a in yaml.safe_load(block)["alerts"]]
    schemes = [(a.apprise or "").split(":")[0] for a in alerts]  # "" for a channel without one
    assert schemes == ["mailtos", "slack", "ntfys", "jsons"]
