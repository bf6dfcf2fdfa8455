#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""`recontrast weights` and `train --encoder-weights imagenet` against a real HTTP server: Debian's
lighttpd, started here on loopback with its own configuration and folders, serving a resnet18
checkpoint this test makes in torchvision's format. A test catalogue (RECONTRAST_WEIGHTS_CATALOGUE)
points the entries at that server; everything else is the product's path.

Checked: a download cut by killing the process resumes with a range request and ends verified; a
wrong published hash is refused and nothing is left; no server, a proxy that is down and a missing
file each give one sentence and a non-zero exit; the cache then serves training (`--encoder-weights
imagenet`), and its absence says how to fetch; `weights import` accepts only the catalogue's file.

Usage: weights_download.py <bin folder> <work folder>"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import test_inputs
import test_support

# lighttpd's per-connection limit for /slow/: the cut download runs for seconds, not milliseconds.
SLOW_KBYTES_PER_SECOND = 4096


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_checkpoint(folder):
    """A resnet18 state dict saved as torchvision saves its weights, named <name>-<sha8>.pth."""
    import torch
    import torchvision
    torch.manual_seed(0)
    path = os.path.join(folder, "resnet18.pth")
    torch.save(torchvision.models.resnet18().state_dict(), path)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    named = os.path.join(folder, f"resnet18-{digest[:8]}.pth")
    os.rename(path, named)
    return named, digest


class Lighttpd:
    def __init__(self, work, files):
        self.root = os.path.join(work, "www")
        os.makedirs(os.path.join(self.root, "slow"))
        for f in files:
            shutil.copy(f, self.root)
            os.link(os.path.join(self.root, os.path.basename(f)), os.path.join(self.root, "slow", os.path.basename(f)))
        self.port = free_port()
        self.access_log = os.path.join(work, "access.log")
        config = os.path.join(work, "lighttpd.conf")
        with open(config, "w") as out:
            out.write(f"""server.modules = ("mod_accesslog")
server.document-root = "{self.root}"
server.bind = "127.0.0.1"
server.port = {self.port}
server.errorlog = "{os.path.join(work, 'error.log')}"
accesslog.filename = "{self.access_log}"
mimetype.assign = (".pth" => "application/octet-stream")
$HTTP["url"] =~ "^/slow/" {{ connection.kbytes-per-second = {SLOW_KBYTES_PER_SECOND} }}
""")
        self.process = subprocess.Popen(["lighttpd", "-D", "-f", config], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("lighttpd did not start: " + (self.process.stderr.read() or "no message"))

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path}"

    def log(self):
        return open(self.access_log).read() if os.path.exists(self.access_log) else ""

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binaries, work = sys.argv[1:3]
    lighttpd = shutil.which("lighttpd") or ("/usr/sbin/lighttpd" if os.path.exists("/usr/sbin/lighttpd") else None)
    if lighttpd is None:
        print("SKIP: lighttpd is not installed (Utilities/install-dependencies.sh installs it)")
        return 0
    os.environ["PATH"] = os.path.dirname(lighttpd) + os.pathsep + os.environ["PATH"]
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"SKIP: torchvision is needed to make the test checkpoint ({e})")
        return 0
    recontrast = os.path.join(binaries, "recontrast")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    check = test_support.Checks()

    checkpoint, digest = make_checkpoint(work)
    name = os.path.basename(checkpoint)
    size = os.path.getsize(checkpoint)
    try:
        server = Lighttpd(work, [checkpoint])
    except (OSError, RuntimeError) as e:
        print(f"SKIP: lighttpd cannot be started here ({e})")
        return 0
    try:
        closed = free_port()
        catalogue = os.path.join(work, "catalogue.json")
        json.dump({"weights": [
            {"name": "resnet18", "file": name, "url": server.url("slow/" + name), "sha256": digest},
            {"name": "tampered", "file": "tampered.pth", "url": server.url(name), "sha256": "0" * 64},
            {"name": "offline", "file": "offline.pth", "url": f"http://127.0.0.1:{closed}/{name}", "sha256": digest},
            {"name": "absent", "file": "absent.pth", "url": server.url("absent.pth"), "sha256": digest},
        ]}, open(catalogue, "w"))
        cache = os.path.join(work, "cache")
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        env.update(RECONTRAST_WEIGHTS_CATALOGUE=catalogue, RECONTRAST_WEIGHTS_CACHE=cache)

        def weights(*args, extra_env=None):
            return subprocess.run([recontrast, "weights", *args], capture_output=True, text=True, timeout=300,
                                  env=dict(env, **(extra_env or {})))

        listed = json.loads(weights("list", "--json").stdout)
        check(listed["cache"] == cache and not any(w["cached"] for w in listed["weights"]),
              "weights list: the test cache, nothing fetched yet")

        # A download cut by killing the process (SIGKILL: nothing is tidied) ...
        part = os.path.join(cache, name + ".part")
        fetch = subprocess.Popen([recontrast, "weights", "fetch", "resnet18"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline and (not os.path.exists(part) or os.path.getsize(part) < size // 4):
            time.sleep(0.05)
        fetch.send_signal(signal.SIGKILL)
        fetch.wait()
        kept = os.path.getsize(part) if os.path.exists(part) else 0
        check(0 < kept < size and not os.path.exists(os.path.join(cache, name)),
              f"a killed download leaves its part ({kept} of {size} bytes) and no cached file")
        # ... resumes from there with a range request and ends verified.
        resumed = weights("fetch", "resnet18")
        cached = os.path.join(cache, name)
        check(resumed.returncode == 0 and resumed.stdout.strip() == cached, "the second fetch completes: " +
              (resumed.stdout + resumed.stderr).strip()[-300:])
        check(os.path.exists(cached) and hashlib.sha256(open(cached, "rb").read()).hexdigest() == digest
              and not os.path.exists(part), "the cached file is the served checkpoint and the part is gone")
        slow = [line for line in server.log().splitlines() if "/slow/" in line]
        check(len(slow) == 2 and '" 206 ' in slow[1], "the second request was a range request answered 206: " +
              (slow[-1] if slow else "no request logged"))
        check("downloading " + name in resumed.stderr and "verified and kept in " + cache in resumed.stderr,
              "the fetch reports its progress and where the file is kept")
        again = weights("fetch", "resnet18")
        check(again.returncode == 0 and len([l for l in server.log().splitlines() if "/slow/" in l]) == 2,
              "a cached, verified file is not downloaded again")

        def refused(result, words, what):
            # Progress lines may come first; the refusal is one sentence, the last line.
            lines = [l for l in result.stderr.strip().splitlines() if not l.startswith("downloading ")]
            check(result.returncode != 0 and len(lines) == 1 and words in lines[0],
                  f"{what}: one sentence with '{words}': {result.stderr.strip()[:300]}")

        refused(weights("fetch", "tampered"), "does not match its published SHA-256", "a wrong hash")
        check(not os.path.exists(os.path.join(cache, "tampered.pth")) and
              not os.path.exists(os.path.join(cache, "tampered.pth.part")), "a wrong hash leaves no file behind")
        refused(weights("fetch", "offline"), "Could not download offline.pth", "no server")
        refused(weights("fetch", "absent"), "the server answered HTTP 404", "a missing file")
        proxied = weights("fetch", "tampered", extra_env={"http_proxy": f"http://127.0.0.1:{closed}"})
        refused(proxied, f"through the proxy http://127.0.0.1:{closed} (from http_proxy)", "a proxy that is down")
        refused(weights("fetch", "vgg16"), 'No weights named "vgg16"', "an unknown name")
        check(sorted(os.listdir(cache)) == [name], "the failures left nothing in the cache: " + str(os.listdir(cache)))

        # Training starts from the cache; without it, it says how to fetch.
        data = os.path.join(work, "data")
        os.makedirs(data)
        test_inputs.nifti(os.path.join(data, "normal.nii.gz"), test_inputs.volume(seed=2), gz=True)
        model = os.path.join(work, "imagenet.rcm")
        train = subprocess.run(test_support.tiny_training(recontrast, data, model, 2, 1, 1,
                                                          ("--encoder-weights", "imagenet")),
                               capture_output=True, text=True, timeout=600, env=env)
        check(train.returncode == 0, "train --encoder-weights imagenet: " + train.stderr.strip()[-300:])
        if train.returncode == 0:
            info = json.loads(subprocess.run([recontrast, "info", model, "--json"], capture_output=True, text=True,
                                             env=env).stdout)
            check(info["training"]["encoder_weights"] == name, "the model records the weights it started from: " +
                  str(info["training"].get("encoder_weights")))
        empty = subprocess.run(test_support.tiny_training(recontrast, data, model + "2", 2, 1, 1,
                                                          ("--encoder-weights", "imagenet")),
                               capture_output=True, text=True, timeout=600,
                               env=dict(env, RECONTRAST_WEIGHTS_CACHE=os.path.join(work, "empty-cache")))
        refused(empty, "fetch them with `recontrast weights fetch resnet18`", "training without cached weights")

        # A copy downloaded elsewhere, brought in; a file that is not the catalogue's, refused.
        other_cache = os.path.join(work, "imported")
        imported = weights("import", checkpoint, "--cache", other_cache)
        check(imported.returncode == 0 and os.path.exists(os.path.join(other_cache, name)),
              "weights import puts the catalogue's file into the cache: " + imported.stderr.strip())
        stranger = os.path.join(work, "stranger.pth")
        open(stranger, "wb").write(b"not weights")
        refused(weights("import", stranger, "--cache", other_cache), "is none of the catalogue's weights",
                "importing another file")
    finally:
        server.stop()
    check.finish("weights download passed")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
