#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A private single-node Slurm cluster on loopback for tests: Debian's slurm-wlm and munge, started
here with their own configuration, key, socket, ports, spool, state, pid and log files under a work
folder, so that nothing depends on (or disturbs) the system's slurmctld, slurmd or munged.

    with SlurmCluster(work) as cluster:           # start() on enter, stop() on exit
        job = cluster.sbatch(["--array=0-2"], "#!/bin/sh\\necho $SLURM_ARRAY_TASK_ID\\n")
        states = cluster.wait(job, timeout=60)    # {"<job>_0": "COMPLETED", ...}
        subprocess.run(["srun", "-n", "2", "env"], env=cluster.env())

Accounting is off (no slurmdbd), so sacct cannot answer: final states come from `scontrol show job`,
which keeps finished jobs for MinJobAge seconds.

Usage (self-check): slurm_cluster.py [work folder]"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Finished jobs stay in `scontrol show job` this long (seconds); wait() reads final states there.
MIN_JOB_AGE = 300
# A unix socket's path has at most 107 bytes (sun_path). munged's socket and slurmd's spool (where
# slurmstepd makes <spool>/<node>_<job>.<step>, up to ~35 bytes more) go under a short /tmp folder
# when the work folder is too deep.
MAX_SOCKET_PATH = 107
STEP_SOCKET_NAME = 36
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("munge", "unmunge", "sinfo", "sbatch", "srun", "squeue", "scontrol", "scancel")


class SlurmUnavailable(Exception):
    """Slurm or munge cannot be used here (missing binary, daemon that does not start): tests skip."""


def _free_port():
    # Bound on every interface: slurmctld and slurmd listen on 0.0.0.0, not only on loopback.
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _port_is_free(port):
    # SO_REUSEADDR: the daemons' closed connections linger in TIME_WAIT for a minute; only a socket
    # still bound or listening makes this bind fail (the daemons themselves rebind the same way).
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
            return True
        except OSError:
            return False


def _tail(path, lines=4):
    """The log's last error/fatal lines (else its last lines), joined on one line."""
    try:
        with open(path, errors="replace") as f:
            last = f.read().strip().splitlines()[-40:]
    except OSError:
        return ""
    errors = [l for l in last if "error" in l or "fatal" in l or "Error" in l]
    return " | ".join((errors or last)[-lines:])


def _which(name):
    # slurmctld, slurmd and munged live in /usr/sbin, which a non-root PATH may lack.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


class SlurmCluster:
    def __init__(self, work):
        self.work = os.path.abspath(work)
        self.conf = os.path.join(self.work, "etc", "slurm.conf")
        self.logs = os.path.join(self.work, "log")
        self.node = socket.gethostname().split(".")[0]  # slurmctld accepts only its own short name
        self.procs = {}  # daemon name -> Popen; all run in the foreground as our children
        self.socket_dir = None  # a short folder under /tmp when the work path is too long
        self.munge_socket = self.spool = None
        self.ctld_port = self.slurmd_port = None
        self.submitted = 0  # numbers the job scripts

    # ----------------------------------------------------------------------------- start and stop
    def start(self, timeout=60):
        """Writes the configuration, starts munged, slurmctld and slurmd, and returns once the node
        is idle; raises SlurmUnavailable (one sentence, with the log's last errors) otherwise."""
        if self.procs:
            return self  # already started
        begin = time.monotonic()
        for name in DAEMONS + CLIENTS:
            if not _which(name):
                raise SlurmUnavailable(f"{name} is not installed (Debian packages slurm-wlm and munge).")
        if os.geteuid() != 0:
            # SlurmUser=root and jobs run as the submitting user: slurmd must be root to launch them.
            raise SlurmUnavailable("a private Slurm cluster needs root (slurmd starts jobs as their user).")
        # Daemons and jobs of an earlier run in this folder that was killed before its stop().
        self._kill_leftovers()
        self._write_files()
        try:
            self._start_munged(begin + timeout)
            self._start_daemon("slurmctld", ["-D", "-c", "-f", self.conf], begin + timeout,
                               self._controller_up)
            self._start_daemon("slurmd", ["-D", "-f", self.conf, "-N", self.node], begin + timeout,
                               self._node_idle)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - begin
        return self

    def stop(self):
        """SIGTERM, then SIGKILL after a few seconds, to slurmd, slurmctld, munged, and to every
        process whose environment names our slurm.conf (slurmstepd and job processes left behind).
        Safe to call twice."""
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.pop(name, None)
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._kill_leftovers()
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------------------- client side
    def env(self):
        """os.environ for srun/sbatch/squeue: SLURM_CONF names our slurm.conf (which names our munge
        socket), and SLURM_* / SBATCH_* / SRUN_* inherited from a surrounding job are dropped."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "SQUEUE_", "SINFO_"))}
        env["SLURM_CONF"] = self.conf
        env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        return env

    def sbatch(self, args, script_text, name="job"):
        """Writes script_text to <work>/jobs/<name>-<n>.sh, submits it from <work>/jobs (the default
        place of slurm-*.out) and returns the job id (an array's job id too)."""
        jobs = os.path.join(self.work, "jobs")
        os.makedirs(jobs, exist_ok=True)
        self.submitted += 1
        n = self.submitted
        script = os.path.join(jobs, f"{name}-{n}.sh")
        with open(script, "w") as f:
            f.write(script_text)
        os.chmod(script, 0o755)
        out = self._run(["sbatch", "--parsable", *args, script], cwd=jobs).stdout.strip()
        return out.split(";")[0]  # "<id>" or "<id>;<cluster>"

    def wait(self, job_id, timeout=120):
        """Waits until no task of the job is in the queue; returns {task: final state}, tasks named
        "<id>" or "<id>_<array index>" (e.g. {"5_0": "COMPLETED", "5_1": "FAILED"})."""
        deadline = time.monotonic() + timeout
        while True:
            q = self._run(["squeue", "-h", "-r", "-j", str(job_id), "-o", "%i %T"], check=False)
            # Unknown job (already purged) is an error from squeue: nothing is queued either way.
            if q.returncode != 0 or not q.stdout.strip():
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"Slurm job {job_id} still queued after {timeout} s: "
                                   + q.stdout.strip().replace("\n", "; "))
            time.sleep(0.5)
        return self.states(job_id)

    def states(self, job_id):
        """{task: state} from `scontrol show job` (one record per array task once they ran); {} once
        the controller has forgotten the job (MinJobAge after its end)."""
        r = self._run(["scontrol", "-o", "show", "job", str(job_id)], check=False)
        states = {}
        for line in r.stdout.splitlines():
            fields = dict(re.findall(r"(\w+)=(\S*)", line))
            if "ArrayJobId" in fields:
                task = f"{fields['ArrayJobId']}_{fields.get('ArrayTaskId', '')}"
            else:
                task = fields.get("JobId", str(job_id))
            states[task] = fields.get("JobState", "UNKNOWN")
        return states

    def cancel(self, job_id):
        """scancel: the job (every array task) ends CANCELLED; wait() sees it leave the queue."""
        self._run(["scancel", str(job_id)], check=False)

    # -------------------------------------------------------------------------------- internals
    def _run(self, cmd, check=True, cwd=None, timeout=30):
        r = subprocess.run(cmd, env=self.env(), cwd=cwd, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def _write_files(self):
        for sub in ("etc", "log", "run", "state", "spool", "munge", "jobs"):
            os.makedirs(os.path.join(self.work, sub), exist_ok=True)
        # munged refuses group/world-writable folders on the way to its key, socket and logs.
        for sub in ("etc", "log", "run", "munge"):
            os.chmod(os.path.join(self.work, sub), 0o700)
        sockets = self.work
        if len(sockets) + len("/spool/") + len(self.node) + STEP_SOCKET_NAME > MAX_SOCKET_PATH:
            self.socket_dir = sockets = tempfile.mkdtemp(prefix="slurm-")
            os.makedirs(os.path.join(sockets, "spool"))
            os.makedirs(os.path.join(sockets, "munge"), mode=0o700)
        self.munge_socket = os.path.join(sockets, "munge", "munge.socket")
        self.spool = os.path.join(sockets, "spool")
        key = os.path.join(self.work, "munge", "munge.key")
        if not os.path.exists(key):
            with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
                f.write(os.urandom(1024))
        self.ctld_port = _free_port()
        self.slurmd_port = _free_port()
        while self.slurmd_port == self.ctld_port:
            self.slurmd_port = _free_port()
        w = self.work
        hardware = self._hardware()
        conf = f"""\
# Written by Testing/CLI/slurm_cluster.py: a private single-node cluster on loopback.
ClusterName=recontrasttest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={self.ctld_port}
SlurmdPort={self.slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={w}/state
SlurmdSpoolDir={self.spool}
SlurmctldPidFile={w}/run/slurmctld.pid
SlurmdPidFile={w}/run/slurmd.pid
SlurmctldLogFile={w}/log/slurmctld.log
SlurmdLogFile={w}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig={w}/etc/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=1
ReturnToService=2
MaxArraySize=1001
MinJobAge={MIN_JOB_AGE}
MessageTimeout=10
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=3
Waittime=0
TCPTimeout=5
NodeName={self.node} NodeAddr=127.0.0.1 NodeHostname={self.node} {hardware} RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        # An empty plugin stack: not /etc/slurm/plugstack.conf's SPANK plugins.
        open(os.path.join(w, "etc", "plugstack.conf"), "w").close()

    def _hardware(self):
        """CPUs and their layout as `slurmd -C` sees them: a layout that differs from the hardware's
        only makes slurmd log a warning, but CPUs alone would count every CPU as a socket."""
        try:
            r = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, timeout=30)
            found = dict(re.findall(r"(\w+)=(\S+)", r.stdout.splitlines()[0]))
            keys = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore")
            return " ".join(f"{k}={found[k]}" for k in keys)
        except (OSError, subprocess.SubprocessError, IndexError, KeyError):
            return f"CPUs={os.cpu_count() or 1}"

    def _start_munged(self, deadline):
        m = os.path.join(self.work, "munge")
        log = os.path.join(self.logs, "munged.log")
        cmd = [_which("munged"), "--foreground", "--force", f"--socket={self.munge_socket}",
               f"--key-file={m}/munge.key", f"--pid-file={m}/munged.pid",
               f"--log-file={log}", f"--seed-file={m}/munged.seed"]
        self._spawn("munged", cmd)
        munge = _which("munge")
        while True:
            # A credential encoded and decoded through our socket: munged is ready.
            enc = subprocess.run([munge, "-S", self.munge_socket, "-n"], capture_output=True, timeout=10)
            if enc.returncode == 0:
                dec = subprocess.run([_which("unmunge"), "-S", self.munge_socket], input=enc.stdout,
                                     capture_output=True, timeout=10)
                if dec.returncode == 0:
                    return
            self._check_alive("munged", log, deadline)
            time.sleep(0.2)

    def _start_daemon(self, name, args, deadline, ready):
        self._spawn(name, [_which(name), *args])
        log = os.path.join(self.logs, f"{name}.log")
        while not ready():
            self._check_alive(name, log, deadline)
            time.sleep(0.3)

    def _spawn(self, name, cmd):
        out = open(os.path.join(self.logs, f"{name}.out"), "w")
        env = self.env()
        # New session: a Ctrl-C meant for the test does not reach the daemons before stop() does.
        self.procs[name] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
        out.close()

    def _check_alive(self, name, log, deadline):
        proc = self.procs[name]
        if proc.poll() is None and time.monotonic() < deadline:
            return
        # In the foreground the daemons also write their log to stderr (<name>.out): it holds what
        # they said before they could open their log file.
        said = _tail(log) or _tail(os.path.join(self.logs, f"{name}.out")) or "(nothing logged)"
        how = f"exited with status {proc.returncode}" if proc.poll() is not None else "was not ready in time"
        raise SlurmUnavailable(f"{name} {how} at start (log {log}): {said}")

    def _controller_up(self):
        r = self._run(["scontrol", "ping"], check=False)
        return r.returncode == 0 and " is UP" in r.stdout

    def _node_idle(self):
        r = self._run(["sinfo", "-h", "-N", "-o", "%t"], check=False)
        return r.returncode == 0 and r.stdout.split() == ["idle"]

    def _kill_leftovers(self):
        """slurmstepd and job processes outlive slurmd; like our daemons they carry
        SLURM_CONF=<our slurm.conf> in their environment, which no other process has."""
        needle = f"SLURM_CONF={self.conf}\0".encode()

        def ours():
            found = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        if needle in f.read() + b"\0" and int(pid) != os.getpid():
                            found.append(int(pid))
                except OSError:
                    pass  # gone, or a zombie
            return found

        def signal_all(pids, sig):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass

        def is_stepd(pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    return f.read().startswith(b"slurmstepd")
            except OSError:
                return False

        # slurmstepd ignores SIGTERM (it waits for slurmd's word, which will not come): SIGKILL.
        found = ours()
        stepds = [p for p in found if is_stepd(p)]
        signal_all(stepds, signal.SIGKILL)
        signal_all([p for p in found if p not in stepds], signal.SIGTERM)
        deadline = time.monotonic() + 3
        while ours() and time.monotonic() < deadline:
            time.sleep(0.1)
        signal_all(ours(), signal.SIGKILL)

    def leftovers(self):
        """Our daemons or job processes still alive, and our ports still bound: [] after stop()."""
        left = []
        needle = f"SLURM_CONF={self.conf}".encode()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                with open(f"/proc/{pid}/environ", "rb") as f:
                    environ = f.read()
            except OSError:
                continue
            if int(pid) != os.getpid() and (needle in environ or (self.munge_socket or "\0") in cmdline):
                left.append(f"pid {pid}: {cmdline}")
        for port in (self.ctld_port, self.slurmd_port):
            if port and not _port_is_free(port):
                left.append(f"port {port} still bound")
        return left


# ------------------------------------------------------------------------------------ self-check
VARIABLES = ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_NPROCS", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID",
             "SLURM_NODEID", "SLURM_STEP_ID", "SLURM_STEPID", "SLURM_JOB_NODELIST", "SLURM_STEP_NODELIST",
             "SLURM_STEP_NUM_NODES", "SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE", "SLURM_TASK_PID",
             "SLURM_SRUN_COMM_PORT", "SLURM_JOB_ID", "SLURM_ARRAY_TASK_ID")


def _print_variables(title, env_files):
    print(title)
    print("  " + "".ljust(26) + "".join(os.path.basename(p)[:-4].ljust(16) for p in env_files))
    tables = []
    for path in env_files:
        with open(path) as f:
            tables.append(dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l))
    for var in VARIABLES:
        print("  " + var.ljust(26) + "".join(t.get(var, "(unset)").ljust(16) for t in tables))


def self_check(work):
    cluster = SlurmCluster(work)
    try:
        cluster.start()
        print(f"cluster up in {cluster.start_seconds:.1f} s (slurmctld port {cluster.ctld_port}, "
              f"slurmd port {cluster.slurmd_port}, munge socket {cluster.munge_socket})")
        out = os.path.join(cluster.work, "out")
        os.makedirs(out, exist_ok=True)

        t = time.monotonic()
        job = cluster.sbatch(["--array=0-2", "-o", f"{out}/array-%a.log"],
                             "#!/bin/sh\necho $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT"
                             f" > {out}/task-$SLURM_ARRAY_TASK_ID\n", name="array")
        states = cluster.wait(job, timeout=60)
        print(f"array job {job}: {states} ({time.monotonic() - t:.1f} s)")
        assert states == {f"{job}_{i}": "COMPLETED" for i in range(3)}, states
        for i in range(3):
            with open(f"{out}/task-{i}") as f:
                assert f.read().split() == [str(i), "3"], f"task {i}"

        # A failing task is reported as FAILED.
        job = cluster.sbatch(["-o", f"{out}/fail.log"], "#!/bin/sh\nexit 3\n", name="fail")
        states = cluster.wait(job, timeout=60)
        assert states == {job: "FAILED"}, states

        # srun straight from the client, then an sbatch --ntasks=2 job: the batch script and its srun.
        r = subprocess.run(["srun", "-n", "2", "-o", f"{out}/srun-%t.env", "env"], env=cluster.env(),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        _print_variables("srun -n 2 env (from outside any job):", [f"{out}/srun-{i}.env" for i in range(2)])
        job = cluster.sbatch(["--ntasks=2", "-o", f"{out}/batch.log"],
                             f"#!/bin/sh\nenv > {out}/batch-script.env\n"
                             f"srun -o {out}/batch-step-%t.env env\n", name="ntasks")
        states = cluster.wait(job, timeout=60)
        assert states == {job: "COMPLETED"}, (states, _tail(f"{out}/batch.log"))
        _print_variables("sbatch --ntasks=2: the batch script, then `srun env` inside it:",
                         [f"{out}/batch-script.env"] + [f"{out}/batch-step-{i}.env" for i in range(2)])

        # cancel(): a long job is cancelled and leaves the queue.
        job = cluster.sbatch(["-o", f"{out}/sleep.log"], "#!/bin/sh\nsleep 600\n", name="sleep")
        deadline = time.monotonic() + 30
        while cluster.states(job).get(job) != "RUNNING":
            assert time.monotonic() < deadline, cluster.states(job)
            time.sleep(0.3)
        cluster.cancel(job)
        states = cluster.wait(job, timeout=30)
        assert states == {job: "CANCELLED"}, states
    finally:
        t = time.monotonic()
        cluster.stop()
        cluster.stop()  # twice: harmless
        print(f"stopped in {time.monotonic() - t:.1f} s")
    left = cluster.leftovers()
    assert not left, left
    print("slurm self-check passed")


if __name__ == "__main__":
    try:
        if len(sys.argv) > 1:
            self_check(sys.argv[1])
        else:
            with tempfile.TemporaryDirectory(prefix="slurm-cluster-") as tmp:
                self_check(tmp)
    except SlurmUnavailable as e:
        print(f"SKIP: {e}")  # the project's tests skip on SlurmUnavailable the same way
