"""What the emulator self-tests share (test_harbor_emulator.py, test_swr_emulator.py and through
it test_swr_ee_emulator.py, test_jfrog_emulator.py): emulator processes started on port 0 with a time limit, so none
outlives a crashed run, and stopped together; and a small record of one HTTP answer."""

import json
import subprocess
import sys


class Processes:
    """The emulator processes one self-test starts."""

    def __init__(self, script):
        self.script = script
        self.procs = []

    def start(self, *args, emu=None):
        """Start the emulator (or the script emu) with args; -> the port it announced."""
        cmd = [sys.executable, emu or self.script, "--port", "0", "--max-seconds", "300"] + list(args)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        if not line.strip().isdigit():
            p.kill()
            raise RuntimeError("emulator did not start: %r %s" % (line, p.stderr.read()))
        return int(line)

    def stop_all(self):
        """SIGTERM every process this test started (by its own handle), SIGKILL after 5 s."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()


class R:
    """One answer: status, headers (lower-case names), body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def h(self, name):
        return self.headers.get(name.lower())
