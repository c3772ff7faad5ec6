#!/usr/bin/env python3
"""Find or set up an interpreter that imports Odoo 18, for tools/dev.sh.

    python3 tools/odoo_setup.py      # prints the interpreter to use, last line

An interpreter that already imports Odoo 18 ($PYTHON, default python3) is used
as it is. Otherwise Odoo 18.0 Community is set up inside the project, in a
git-ignored folder ($RETURNS_ODOO_HOME, default .odoo-env/), without touching
the system Python:

- src/   a shallow clone of $ODOO_GIT at $ODOO_REF (or $ODOO_SRC, used as is);
- venv/  a virtual environment of $PYTHON with Odoo's requirements, the
         project's requirements.txt and a .pth file that makes src/ importable;
- state.json, written last: what the environment was built from. A later run
  whose inputs match reuses everything; a changed ref or requirements file is
  noticed and only what depends on it is redone.

RETURNS_ODOO_SETUP=0 turns the set-up off: without Odoo 18, a clear error.

A failing step prints the command and the end of its log and leaves nothing a
second run cannot repair (clones go to a temporary folder first; a venv whose
install failed is removed).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_GIT = "https://github.com/odoo/odoo.git"
DEFAULT_REF = "18.0"
# Old sdists among Odoo's pinned requirements import pkg_resources, which
# setuptools 70 dropped from their build environments.
BUILD_CONSTRAINTS = "setuptools<70\n"
CHECK_ODOO_18 = "import odoo.release as r; assert r.version_info[0] == 18"


class SetupError(Exception):
    pass


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def run(cmd, log_path, env=None, cwd=None):
    """Run cmd with its output in log_path; on failure, a SetupError that
    names the command and shows the end of the log."""
    with open(log_path, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        done = subprocess.run(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, check=False
        )
    if done.returncode:
        with open(log_path, "rb") as out:
            tail = out.read()[-3000:].decode(errors="replace")
        raise SetupError(
            f"this command failed (exit code {done.returncode}):\n  {' '.join(cmd)}\n"
            f"last lines of its log ({log_path}):\n{tail}"
        )


def imports_odoo_18(python):
    try:
        done = subprocess.run(
            [python, "-c", CHECK_ODOO_18], capture_output=True, check=False
        )
    except OSError:
        return False
    return done.returncode == 0


def file_digest(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class OdooEnv:
    def __init__(self, environ):
        self.python = environ.get("PYTHON") or "python3"
        self.home = os.path.abspath(
            environ.get("RETURNS_ODOO_HOME") or os.path.join(ROOT, ".odoo-env")
        )
        self.git_url = environ.get("ODOO_GIT") or DEFAULT_GIT
        self.ref = environ.get("ODOO_REF") or DEFAULT_REF
        self.given_src = environ.get("ODOO_SRC")
        self.project_requirements = environ.get("RETURNS_REQUIREMENTS") or os.path.join(
            ROOT, "requirements.txt"
        )
        self.setup_allowed = environ.get("RETURNS_ODOO_SETUP", "1") != "0"
        self.venv = os.path.join(self.home, "venv")
        self.venv_python = os.path.join(self.venv, "bin", "python")
        self.state_path = os.path.join(self.home, "state.json")
        self.log_path = os.path.join(self.home, "setup.log")

    @property
    def src(self):
        return os.path.abspath(self.given_src or os.path.join(self.home, "src"))

    # --- state ---------------------------------------------------------------

    def _read_state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _write_state(self, state):
        tmp = f"{self.state_path}.tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(tmp, self.state_path)

    def _source_state(self):
        if self.given_src:
            return {"src": self.src}
        return {"src": self.src, "git": self.git_url, "ref": self.ref}

    def _venv_state(self):
        return {
            "python": self.python,
            "odoo_requirements": file_digest(
                os.path.join(self.src, "requirements.txt")
            ),
            "requirements": file_digest(self.project_requirements),
        }

    # --- steps ---------------------------------------------------------------

    def ensure(self):
        """Return the interpreter that imports Odoo 18, setting it up if needed."""
        if imports_odoo_18(self.python):
            return self.python
        if not self.setup_allowed:
            raise SetupError(
                f"Odoo 18 is not importable by {self.python}, and setting it up is "
                f"off (RETURNS_ODOO_SETUP=0). Either run without RETURNS_ODOO_SETUP=0 "
                f"to set it up in {self.home}, or install Odoo 18 into that "
                f"interpreter yourself:\n"
                f"  git clone --depth 1 --branch 18.0 {DEFAULT_GIT} ~/odoo18\n"
                f"  echo 'setuptools<70' > /tmp/c.txt\n"
                f"  PIP_CONSTRAINT=/tmp/c.txt {self.python} -m pip install "
                f"-r ~/odoo18/requirements.txt\n"
                f"  {self.python} -m pip install -e ~/odoo18   (or a .pth file "
                f"naming ~/odoo18 in site-packages)"
            )
        os.makedirs(self.home, exist_ok=True)
        state = self._read_state()
        if state.get("source") != self._source_state() or not os.path.isdir(self.src):
            self._fetch_source()
            state = {"source": self._source_state()}
            self._write_state(state)
        self._check_source_is_odoo_18()
        if state.get("venv") != self._venv_state() or not imports_odoo_18(
            self.venv_python
        ):
            self._build_venv()
            state["venv"] = self._venv_state()
            self._write_state(state)
        else:
            log(f"Reusing Odoo 18 in {self.home} (ref {self.ref})")
        return self.venv_python

    def _fetch_source(self):
        if self.given_src:
            if not os.path.isdir(self.src):
                raise SetupError(f"ODOO_SRC={self.given_src} is not a folder")
            log(f"Using the Odoo source tree in {self.src} (ODOO_SRC)")
            return
        log(
            f"Fetching Odoo {self.ref} from {self.git_url} (shallow; a few minutes "
            f"from GitHub)"
        )
        started = time.monotonic()
        target = os.path.join(self.home, "src")
        tmp = tempfile.mkdtemp(prefix="src.", dir=self.home)
        try:
            run(["git", "init", "-q", tmp], self.log_path)
            run(
                [
                    "git",
                    "-C",
                    tmp,
                    "fetch",
                    "-q",
                    "--depth",
                    "1",
                    self.git_url,
                    self.ref,
                ],
                self.log_path,
            )
            run(
                ["git", "-C", tmp, "checkout", "-q", "--detach", "FETCH_HEAD"],
                self.log_path,
            )
        except SetupError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        log(f"Odoo source ready in {target} ({time.monotonic() - started:.0f} s)")

    def _check_source_is_odoo_18(self):
        release = os.path.join(self.src, "odoo", "release.py")
        if not os.path.exists(release):
            raise SetupError(
                f"{self.src} is not an Odoo source tree (no odoo/release.py)"
            )
        scope = {}
        with open(release) as f:
            exec(compile(f.read(), release, "exec"), scope)  # noqa: S102  Odoo's own constants
        if scope.get("version_info", (None,))[0] != 18:
            raise SetupError(
                f"{self.src} holds Odoo {scope.get('version', '?')}, not 18.0: set "
                f"ODOO_REF (today {self.ref}) or ODOO_SRC"
            )

    def _build_venv(self):
        log(
            f"Creating a virtual environment with Odoo's requirements in {self.venv} "
            f"(a few minutes the first time; log: {self.log_path})"
        )
        started = time.monotonic()
        shutil.rmtree(self.venv, ignore_errors=True)
        try:
            run([self.python, "-m", "venv", self.venv], self.log_path)
            self._pip_install()
            self._link_source()
            if not imports_odoo_18(self.venv_python):
                raise SetupError(
                    f"Odoo 18 is still not importable by {self.venv_python}: see "
                    f"{self.log_path}"
                )
        except SetupError:
            # a second run starts this step again from scratch
            shutil.rmtree(self.venv, ignore_errors=True)
            raise
        log(f"Odoo 18 environment ready ({time.monotonic() - started:.0f} s)")

    def _pip_install(self):
        constraints = os.path.join(self.home, "build-constraints.txt")
        with open(constraints, "w") as f:
            f.write(BUILD_CONSTRAINTS)
        odoo_requirements = os.path.join(self.home, "odoo-requirements.txt")
        with open(os.path.join(self.src, "requirements.txt")) as f:
            lines = f.read().splitlines()
        with open(odoo_requirements, "w") as f:
            f.write("\n".join(adapt_odoo_requirements(lines)) + "\n")
        env = dict(
            os.environ, PIP_CONSTRAINT=constraints, PIP_DISABLE_PIP_VERSION_CHECK="1"
        )
        pip = [self.venv_python, "-m", "pip", "install", "--quiet"]
        log("  installing Odoo's requirements")
        run([*pip, "-r", odoo_requirements], self.log_path, env=env)
        log("  installing the project's requirements")
        run([*pip, "-r", self.project_requirements], self.log_path, env=env)

    def _link_source(self):
        done = subprocess.run(
            [
                self.venv_python,
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        with open(os.path.join(done.stdout.strip(), "odoo-src.pth"), "w") as f:
            f.write(self.src + "\n")


def adapt_odoo_requirements(lines):
    """Odoo's requirements, minus what cannot build on a plain machine and
    no part of this project uses: python-ldap (auth_ldap only, needs the
    OpenLDAP headers); psycopg2 comes as its binary wheel (no libpq headers)."""
    for line in lines:
        name = line.split("#")[0].strip().split("=")[0].split("<")[0].split(">")[0]
        name = name.split(";")[0].strip().lower()
        if name == "python-ldap":
            continue
        if name == "psycopg2":
            line = line.replace("psycopg2", "psycopg2-binary", 1)
        yield line


def main():
    try:
        python = OdooEnv(os.environ).ensure()
    except SetupError as error:
        print(f"odoo_setup: {error}", file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
