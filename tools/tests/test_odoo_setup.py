"""The set-up logic of tools/odoo_setup.py against a small fake Odoo
repository: no network, real git, real virtual environments.

    python3 tools/tests/test_odoo_setup.py   # one "SETUP PASS|FAIL name" line per test
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP = os.path.join(TOOLS, "odoo_setup.py")
# an interpreter that imports no Odoo (the one running this may: CI's does),
# made once in setUpModule: a bare virtual environment of this Python
BARE = tempfile.mkdtemp(prefix="odoo_setup_python.")
BASE_PYTHON = os.path.join(BARE, "bin", "python")


def setUpModule():
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", BARE], check=True)


def tearDownModule():
    shutil.rmtree(BARE, ignore_errors=True)


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def fake_odoo_tree(path, major=18, requirements=""):
    write(os.path.join(path, "odoo", "__init__.py"), "")
    write(
        os.path.join(path, "odoo", "release.py"),
        f"version_info = ({major}, 0, 0, 'final', 0, '')\nversion = '{major}.0'\n",
    )
    write(os.path.join(path, "requirements.txt"), requirements)


class TestOdooSetup(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="odoo_setup_test.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.repo = os.path.join(self.tmp, "odoo.git")
        fake_odoo_tree(self.repo)
        git("init", "-q", "-b", "18.0", cwd=self.repo)
        git("add", "-A", cwd=self.repo)
        git(
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "18",
            cwd=self.repo,
        )
        self.home = os.path.join(self.tmp, "env")
        self.requirements = os.path.join(self.tmp, "requirements.txt")
        write(self.requirements, "")

    def _env(self, **extra):
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ODOO_", "PYTHON", "RETURNS_"))
        }
        env.update(
            PYTHON=BASE_PYTHON,
            RETURNS_ODOO_HOME=self.home,
            RETURNS_REQUIREMENTS=self.requirements,
            ODOO_GIT=self.repo,
            PIP_NO_INDEX="1",  # never the network: the fake needs nothing
        )
        env.update(extra)
        return env

    def _setup(self, **extra):
        return subprocess.run(
            [BASE_PYTHON, SETUP], env=self._env(**extra), capture_output=True, text=True
        )

    def _imports_fake_odoo(self, python):
        done = subprocess.run(
            [python, "-c", "import odoo.release as r; print(r.version_info[0])"],
            capture_output=True,
            text=True,
        )
        return done.stdout.strip() == "18"

    def test_fresh_setup_clones_builds_a_venv_and_imports_odoo(self):
        done = self._setup()
        self.assertEqual(done.returncode, 0, done.stderr)
        python = done.stdout.strip().splitlines()[-1]
        self.assertTrue(python.startswith(self.home), python)
        self.assertTrue(self._imports_fake_odoo(python))
        self.assertFalse(self._imports_fake_odoo(BASE_PYTHON), "system Python touched")
        with open(os.path.join(self.home, "state.json")) as f:
            state = json.load(f)
        self.assertEqual(state["source"]["ref"], "18.0")

    def test_second_run_reuses_everything(self):
        self.assertEqual(self._setup().returncode, 0)
        marker = os.path.join(self.home, "venv", "marker")
        write(marker, "kept")
        done = self._setup()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Reusing", done.stderr)
        self.assertNotIn("Fetching", done.stderr)
        self.assertTrue(os.path.exists(marker), "the venv was rebuilt")

    def test_changed_requirements_rebuild_the_venv_only(self):
        self.assertEqual(self._setup().returncode, 0)
        write(self.requirements, "# a new requirement\n")
        done = self._setup()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Creating a virtual environment", done.stderr)
        self.assertNotIn("Fetching", done.stderr)

    def test_changed_ref_fetches_that_ref(self):
        self.assertEqual(self._setup().returncode, 0)
        git("checkout", "-q", "-b", "18.0-fix", cwd=self.repo)
        write(os.path.join(self.repo, "FIX"), "fix\n")
        git("add", "-A", cwd=self.repo)
        git(
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "fix",
            cwd=self.repo,
        )
        done = self._setup(ODOO_REF="18.0-fix")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Fetching Odoo 18.0-fix", done.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.home, "src", "FIX")))

    def test_an_interpreter_that_imports_odoo_18_is_used_untouched(self):
        src = os.path.join(self.tmp, "installed")
        fake_odoo_tree(src)
        wrapper = os.path.join(self.tmp, "python-with-odoo")
        write(wrapper, f'#!/bin/sh\nPYTHONPATH="{src}" exec "{BASE_PYTHON}" "$@"\n')
        os.chmod(wrapper, 0o755)
        done = self._setup(PYTHON=wrapper)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.strip(), wrapper)
        self.assertFalse(os.path.exists(self.home), "an environment was built anyway")

    def test_odoo_src_is_used_without_cloning(self):
        src = os.path.join(self.tmp, "my-odoo")
        fake_odoo_tree(src)
        done = self._setup(ODOO_SRC=src, ODOO_GIT="/nonexistent")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home, "src")))
        python = done.stdout.strip().splitlines()[-1]
        self.assertTrue(self._imports_fake_odoo(python))

    def test_unreachable_repository_fails_clearly_and_a_second_run_repairs(self):
        done = self._setup(ODOO_GIT=os.path.join(self.tmp, "missing.git"))
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("this command failed", done.stderr)
        self.assertIn("git", done.stderr)
        self.assertIn("setup.log", done.stderr)
        self.assertEqual(
            [name for name in os.listdir(self.home) if name.startswith("src")], []
        )
        self.assertEqual(self._setup().returncode, 0)

    def test_failed_install_leaves_no_venv_and_a_second_run_repairs(self):
        write(self.requirements, "no-such-package-for-returns==1.0\n")
        done = self._setup()
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("pip", done.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home, "venv")))
        write(self.requirements, "")
        done = self._setup()
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_setup_off_fails_without_odoo_and_builds_nothing(self):
        done = self._setup(RETURNS_ODOO_SETUP="0")
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("not importable", done.stderr)
        self.assertFalse(os.path.exists(self.home))

    def test_a_source_that_is_not_odoo_18_is_refused(self):
        src = os.path.join(self.tmp, "odoo17")
        fake_odoo_tree(src, major=17)
        done = self._setup(ODOO_SRC=src)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("not 18.0", done.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home, "venv")))


class LineResult(unittest.TextTestResult):
    """One line per test that tools/dev.sh counts into its verdict."""

    def addSuccess(self, test):
        super().addSuccess(test)
        print(f"SETUP PASS {test.id()}", flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        print(f"SETUP FAIL {test.id()}", flush=True)

    def addError(self, test, err):
        super().addError(test, err)
        print(f"SETUP FAIL {test.id()}", flush=True)


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(resultclass=LineResult, verbosity=0).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
