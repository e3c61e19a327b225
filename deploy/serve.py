"""``make serve-public``: nginx in front of two gunicorn pools, in the foreground.

    python -m deploy.serve --index index_data --port 8080 [--host 0.0.0.0] [--workers N]

Two pools of threaded gunicorn workers over the same read-only index: ``search`` (the
search box, articles, suggestions, officials, the page) and ``heavy`` (exports and
drafts, at a lower CPU priority), so that a search-box query never waits behind an
export. nginx (Debian's, from ``$PATH`` or ``/usr/sbin``) runs unprivileged from a
configuration rendered from ``deploy/nginx.conf.template`` into a run directory that
holds its pid, logs, temporary files and a copy of web/'s static files; gunicorn's error
logs are there too. Ctrl-C or SIGTERM stops nginx, then gunicorn, and returns 0; if any
of them dies on its own the others are stopped and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
WEB = ROOT / "web"
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(?:js|css|svg|png|ico)$")  # as api.py serves
MIME_TYPES = """types {
    text/html html; text/css css; text/javascript js; application/json json;
    image/svg+xml svg; image/png png; image/x-icon ico;
}
"""
UNPRIVILEGED_USER = "nobody"  # nginx's user when started by root


@dataclass
class Limits:
    """nginx's per-client limits (rates per address) and the in-flight bound."""

    search_rate: int = 20  # requests a second (search box, page, suggestions…)
    search_burst: int = 40
    export_rate: int = 12  # exports a minute
    export_burst: int = 3
    draft_rate: int = 2  # drafts a second
    draft_burst: int = 4
    per_client_connections: int = 16
    in_flight: int = 128  # requests proxied to the search pool at once; more get 429
    exempt: tuple[str, ...] = ()  # addresses or CIDR ranges that no limit applies to


@dataclass
class Pool:
    """One gunicorn master with its workers."""

    name: str
    workers: int
    port: int
    env: dict
    nice: int = 0
    proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The pids of this pool's workers (children of its master), from /proc."""
        if self.proc is None:
            return []
        try:
            raw = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in raw.split()]


def find_nginx() -> str | None:
    """Debian's nginx binary: on ``$PATH`` or in /usr/sbin (not on a user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class PublicServer:
    """nginx and two gunicorn pools over ``index``; ``start()``, then ``stop()``."""

    index: Path
    port: int
    host: str = "127.0.0.1"
    workers: int = 2
    heavy_workers: int = 1
    run_dir: Path | None = None
    env: dict = field(default_factory=dict)  # VNSEARCH_* for both pools
    limits: Limits = field(default_factory=Limits)
    keep_run_dir: bool = True
    pools: list[Pool] = field(default_factory=list)
    nginx: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    # ----------------------------------------------------------------- start
    def start(self, timeout: float = 60.0) -> None:
        """Start both pools, wait until they answer, then start nginx and wait for it.
        Raises RuntimeError (with the logs' tail) when something does not come up."""
        nginx = find_nginx()
        if nginx is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        self._prepare_run_dir()
        env = dict(os.environ, **self.env, VNSEARCH_INDEX=str(Path(self.index).resolve()))
        # both pools' workers share the machine's memory budget (``search.memory``)
        env.setdefault("VNSEARCH_WORKERS", str(self.workers + self.heavy_workers))
        heavy_env = {"VNSEARCH_HEAVY_SLOTS": env.get("VNSEARCH_HEAVY_SLOTS", "2")}
        self.pools = [
            Pool("search", self.workers, free_port(), env),
            Pool("heavy", self.heavy_workers, free_port(), dict(env, **heavy_env), nice=10),
        ]
        try:
            for pool in self.pools:
                self._start_pool(pool)
            deadline = time.monotonic() + timeout
            for pool in self.pools:
                self._wait_for(f"http://{pool.address}/health", deadline, pool.name)
            self._render_nginx_conf()
            self.nginx = subprocess.Popen(
                [nginx, "-p", str(self.run_dir), "-c", str(self.conf), "-e", str(self.nginx_log)]
                + ["-g", "daemon off;"],
                start_new_session=True,
                **self._nginx_user(),
                stdout=subprocess.DEVNULL,
                stderr=open(self.run_dir / "logs" / "nginx.stderr", "wb"),  # noqa: SIM115
            )
            self._wait_for(f"{self.base}/health", deadline, "nginx")
        except BaseException:
            self.stop()
            raise

    def _prepare_run_dir(self) -> None:
        if self.run_dir is None:
            self.run_dir = Path(tempfile.mkdtemp(prefix="vnsearch-public-"))
        self.run_dir = Path(self.run_dir).resolve()
        for sub in ("logs", "tmp", "web"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        for path in WEB.iterdir():
            if STATIC_NAME.match(path.name):
                shutil.copyfile(path, self.run_dir / "web" / path.name)
        (self.run_dir / "mime.types").write_text(MIME_TYPES, encoding="utf-8")
        self.conf = self.run_dir / "nginx.conf"
        self.nginx_log = self.run_dir / "logs" / "error.log"
        self.nginx_log.touch()
        os.chmod(self.run_dir, 0o755)
        if os.geteuid() == 0:  # nginx will run as nobody: it owns its directory
            closed = [p for p in self.run_dir.parents if not os.stat(p).st_mode & 0o001]
            if closed:
                raise RuntimeError(
                    f"nginx runs as {UNPRIVILEGED_USER} and cannot reach {self.run_dir} "
                    f"({closed[0]} is closed to others): choose another --run-dir"
                )
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            for path in [self.run_dir, *self.run_dir.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid)

    @staticmethod
    def _nginx_user() -> dict:
        """``Popen`` arguments that run nginx as nobody when the runner is root."""
        if os.geteuid() != 0:
            return {}
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _start_pool(self, pool: Pool) -> None:
        log = self.run_dir / "logs" / f"gunicorn-{pool.name}.log"
        cmd = ["nice", "-n", str(pool.nice)] if pool.nice else []
        cmd += [sys.executable, "-m", "gunicorn", "--config", str(DEPLOY / "gunicorn_conf.py")]
        cmd += ["--bind", pool.address, "--workers", str(pool.workers)]
        cmd += ["--error-logfile", str(log), "--name", f"vnsearch-{pool.name}"]

        pool.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=pool.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(self.run_dir / "logs" / f"gunicorn-{pool.name}.stderr", "wb"),  # noqa: SIM115
        )

    def _render_nginx_conf(self) -> None:
        from api import security_headers
        from settings import Settings

        settings = Settings.from_env(dict(os.environ, **self.env))
        static = [f'add_header {k} "{v}" always;' for k, v in security_headers(settings).items()]
        static.append('add_header Cache-Control "no-cache" always;')
        errors = ["default_type application/json;"]
        errors += ["add_header X-Content-Type-Options nosniff always;"]
        errors += ['add_header Cache-Control "no-store" always;']
        # a location with an error_page of its own inherits none: the proxied ones repeat
        # the server's (but 502, which they retry once in their "again" location), and
        # let the again location's own errors have their JSON pages too
        proxied = ["recursive_error_pages on;"]
        proxied += ["error_page 404 /_error/404;", "error_page 405 /_error/405;"]
        proxied += ["error_page 413 /_error/413;", "error_page 429 /_error/429;"]
        proxied += ["error_page 500 503 504 =503 /_error/503;"]
        again = ["# one more try, on a new connection; only GET and HEAD, and only once"]
        again += ["error_page 500 502 503 504 =503 /_error/503;"]
        again += ["if ($request_method !~ ^(GET|HEAD)$) {", "    return 503;", "}"]
        values = {
            "run": str(self.run_dir),
            "proxied_error_pages": "\n            ".join(proxied),
            "again": "\n            ".join(again),
            "mime_types": str(self.run_dir / "mime.types"),
            "nginx_workers": "1",
            "listen": f"{self.host}:{self.port}",
            "search_pool": self.pools[0].address,
            "heavy_pool": self.pools[1].address,
            "static_headers": "\n            ".join(static),
            "error_headers": "\n            ".join(errors),
            **{k: str(v) for k, v in vars(self.limits).items() if k != "exempt"},
            "exempt": "\n        ".join(f"{a} 0;" for a in self.limits.exempt),
        }
        template = Template((DEPLOY / "nginx.conf.template").read_text(encoding="utf-8"))
        text = template.safe_substitute(values)
        left = re.findall(r"\$\{\w+\}", text)
        if left:
            raise RuntimeError(f"nginx.conf.template names unknown values: {left}")
        self.conf.write_text(text, encoding="utf-8")

    def _wait_for(self, url: str, deadline: float, what: str) -> None:
        while time.monotonic() < deadline:
            dead = [p.name for p in self.pools if p.proc and p.proc.poll() is not None]
            if self.nginx is not None and self.nginx.poll() is not None:
                dead.append("nginx")
            if dead:
                raise RuntimeError(f"{', '.join(dead)} stopped while starting:\n{self.logs()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    resp.read()
                return
            except urllib.error.HTTPError:
                return  # it answers (503 until an index is built)
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise RuntimeError(f"{what} did not answer {url} in time:\n{self.logs()}")

    def reload(self, limits: Limits) -> None:
        """Render the configuration with new ``limits`` and have nginx load it (SIGHUP:
        new nginx workers take new connections, the old ones finish theirs)."""
        self.limits = limits
        self._render_nginx_conf()
        self.nginx.send_signal(signal.SIGHUP)
        time.sleep(1.0)  # nginx starts its new workers

    # ----------------------------------------------------------------- running
    def running(self) -> bool:
        procs = [p.proc for p in self.pools] + [self.nginx]
        return all(p is not None and p.poll() is None for p in procs)

    def logs(self, lines: int = 30) -> str:
        """The tail of every log in the run directory (for error messages)."""
        out = []
        for path in sorted((self.run_dir / "logs").glob("*")) if self.run_dir else []:
            try:
                tail = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            if tail and path.name != "access.log":
                out.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(out)

    # ----------------------------------------------------------------- stop
    def stop(self) -> None:
        """Stop nginx (it stops taking requests), then the pools; kill what lingers."""
        if self.nginx is not None:
            _terminate([self.nginx], signal.SIGQUIT, 5.0)
        _terminate([p.proc for p in self.pools if p.proc is not None], signal.SIGTERM, 15.0)
        if not self.keep_run_dir and self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _terminate(procs: list[subprocess.Popen], sig: int, grace: float) -> None:
    """Send ``sig`` to every process at once, wait up to ``grace`` s, then kill the rest."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(sig)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_forever(server: PublicServer) -> int:
    """Start ``server`` and run until SIGINT/SIGTERM (0) or until a part of it dies (1)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server.start()
        print(f"vnsearch: serving {server.base} (nginx → gunicorn); logs in {server.run_dir}")
        print("vnsearch: Ctrl-C to stop", flush=True)
        while not stop.wait(0.5):
            if not server.running():
                print(f"vnsearch: a part of the service stopped:\n{server.logs()}", file=sys.stderr)
                return 1
        return 0
    except RuntimeError as exc:
        print(f"vnsearch: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        print("vnsearch: stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.serve", description=__doc__)
    parser.add_argument("--index", default=None, help="index directory ($VNSEARCH_INDEX)")
    parser.add_argument("--host", default="0.0.0.0", help="address nginx listens on")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="search pool")
    parser.add_argument("--heavy-workers", type=int, default=1, help="export and draft pool")
    parser.add_argument("--run-dir", type=Path, help="pid, logs, temp files (default: new)")
    parser.add_argument("--clean", action="store_true", help="remove the run dir on stop")
    parser.add_argument(
        "--exempt", action="append", default=[], metavar="ADDR", help="not rate-limited"
    )
    args = parser.parse_args(argv)

    from settings import Settings, SettingsError

    try:
        settings = Settings.from_env(index=Path(args.index) if args.index else None)
    except SettingsError as exc:
        print(f"vnsearch: {exc}", file=sys.stderr)
        return 2
    server = PublicServer(
        index=settings.index,
        port=args.port,
        host=args.host,
        workers=max(1, args.workers),
        heavy_workers=max(1, args.heavy_workers),
        run_dir=args.run_dir,
        keep_run_dir=not args.clean,
        limits=Limits(exempt=tuple(args.exempt)),
    )
    return serve_forever(server)


if __name__ == "__main__":
    sys.exit(main())
