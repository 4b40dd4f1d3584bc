"""Where the embedded Apache Kafka's publish and delivery tail comes from: A/B experiments.

Run: ``.venv/bin/python bench/bench_broker_latency.py [--variants project serial parallel ...]
[--rounds 3] [--seconds 10] [--rate 50] [--java]``; ``--list`` names the variants.

Every variant is a broker (JVM options, heap, ``server.properties`` additions) and a pair of
clients (aiokafka producer and consumer options). One embedded broker per distinct broker
configuration is started from the project's own jars (``infra.stack.kafka_broker``) in a
temporary folder, all of them before the first measurement, and the variants are then measured
in turn, ``--rounds`` times (A B C A B C ...), so that a busy minute on this shared machine
falls on every variant alike. Per window of ``--seconds``:

* a producer publishes ``--rate`` records/s, paced (each send on its own schedule, as the
  pipeline's threads do: a slow send does not delay the next one), ``--size`` bytes each,
  keyed over 50 keys into a 12-partition topic (the inbox's shape), and times each publish
  (``send`` to the broker's acknowledgement);
* a plain consumer (no group) in the same process times each record's delivery (``send`` to
  the record in the consumer's hands);
* a 5 ms timer measures this process's event-loop lag (how late it fires): a late loop delays
  both of the above without the broker having anything to do with it;
* the broker's GC log (``<kafka>/gc.log``, which the embedded broker writes) gives the
  stop-the-world pauses that fell in the window, and /proc the broker's and this process's
  CPU and how long their threads waited for a core (run-queue wait).

With ``--java``, Kafka's own ``ProducerPerformance`` (Java client, acks=all, paced at the same
rate) runs against each broker once per round too: the broker's tail without Python in it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.settings import load_settings
from infra.stack import health, kafka_broker
from infra.stack.kafka_runtime import KafkaRuntime, default_cache_dir, kafka_runtime
from infra.stack.ports import free_port
from infra.stack.processes import ProcessRecord, spawn, stop

HOST = "127.0.0.1"
PARTITIONS = 12
KEYS = 50
SERIAL = ("-XX:+UseSerialGC",)
COMMON = ("-XX:MaxDirectMemorySize=128m", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true")


@dataclass(frozen=True)
class Variant:
    """One configuration under test; ``jvm=None`` means the project's current JVM options."""

    name: str
    jvm: tuple[str, ...] | None = None
    heap: str | None = None
    props: tuple[tuple[str, str], ...] = ()
    producer: tuple[tuple[str, Any], ...] = ()
    consumer: tuple[tuple[str, Any], ...] = ()
    getmany_ms: int = 1000
    nice: int | None = None
    """The broker's threads reniced to this after its start (an experiment on scheduling)."""

    @property
    def broker_key(self) -> tuple[Any, ...]:
        return (self.jvm, self.heap, self.props, self.nice)


def old(name: str, **changes: Any) -> Variant:
    """The broker and clients as the project ran them at 9656254, with ``changes``."""
    base: dict[str, Any] = {"jvm": (*SERIAL, *COMMON), "heap": "-Xmx384m -Xms128m"}
    return Variant(name, **{**base, **changes})


def variants() -> dict[str, Variant]:
    """The experiments; ``serial`` is the broker as the project ran it at 9656254, ``project``
    the broker as the project runs it now."""
    fixed = "-Xmx384m -Xms384m"
    table = [
        Variant("project"),
        old("serial"),
        old("parallel", jvm=("-XX:+UseParallelGC", *COMMON)),
        old("parallel1", jvm=("-XX:+UseParallelGC", "-XX:ParallelGCThreads=1", *COMMON)),
        old("g1", jvm=("-XX:+UseG1GC", *COMMON)),
        old("g1-10ms", jvm=("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=10", *COMMON)),
        old("serial-fixed", heap=fixed),
        old("serial-pretouch", heap=fixed, jvm=(*SERIAL, "-XX:+AlwaysPreTouch", *COMMON)),
        old("serial-young16", jvm=(*SERIAL, "-Xmn16m", *COMMON)),
        old("serial-young128", heap=fixed, jvm=(*SERIAL, "-Xmn128m", *COMMON)),
        old("serial-nice0", nice=0),
        old("c1-only", jvm=(*SERIAL, "-XX:TieredStopAtLevel=1", *COMMON)),
        old("threads-8io-3net", props=(("num.io.threads", "8"), ("num.network.threads", "3"))),
        old("threads-2io-1net", props=(("num.io.threads", "2"), ("num.network.threads", "1"))),
        old("flush-each", props=(("log.flush.interval.messages", "1"),)),
        old("no-noop", props=(("metadata.max.idle.interval.ms", "0"),)),
        old("acks1", producer=(("acks", 1), ("enable_idempotence", False))),
        old("no-idempotence", producer=(("enable_idempotence", False),)),
        old("linger5", producer=(("linger_ms", 5),)),
        old("fetch-wait-50", consumer=(("fetch_max_wait_ms", 50),)),
        old("fetch-wait-5", consumer=(("fetch_max_wait_ms", 5),)),
        old("getmany-50", getmany_ms=50),
    ]
    return {v.name: v for v in table}


@dataclass
class Broker:
    """One embedded broker of the bench, with its GC log."""

    bootstrap: str
    process: ProcessRecord
    gc_log: Path
    gc_offset: int = 0

    def gc_since_mark(self) -> list[tuple[float, float]]:
        """The pauses the GC log gained since the last call: (when it ended, on this host's
        monotonic clock; how long, ms). The JVM's uptime counts from about its process's
        start, which /proc gives in clock ticks since boot (the monotonic clock's origin)."""
        with self.gc_log.open("rb") as f:
            f.seek(self.gc_offset)
            data = f.read()
        self.gc_offset += len(data)
        started = self.process.start_ticks / os.sysconf("SC_CLK_TCK")
        found = re.findall(rb"\[(\d+\.\d+)s\][^\n]*Pause [^\n]* (\d+\.\d+)ms", data)
        return [(started + float(at) + float(ms) / 1000, float(ms)) for at, ms in found]


async def start_broker(runtime: KafkaRuntime, variant: Variant, root: Path) -> Broker:
    """A fresh single-node broker in ``root`` with the variant's JVM options and properties."""
    layout = kafka_broker.KafkaLayout(root)
    port, controller = free_port(HOST), free_port(HOST)
    kafka_broker.write_config(layout, HOST, port, controller)
    with layout.properties.open("a") as f:  # later keys win in java.util.Properties
        f.writelines(f"{key}={value}\n" for key, value in variant.props)
    await kafka_broker.format_storage(runtime, layout, variant.heap)
    argv = kafka_broker.broker_argv(runtime, layout, variant.heap)
    if variant.jvm is not None:
        first = argv.index(kafka_broker.JVM_OPTS[0])
        argv[first : first + len(kafka_broker.JVM_OPTS)] = variant.jvm
    process = spawn("kafka", argv, root / "kafka.log", cwd=root)
    bootstrap = f"{HOST}:{port}"
    await health.wait_until(
        lambda: health.kafka_coordinator_ready(bootstrap), 60, still_running=lambda: True
    )
    if variant.nice is not None:  # per thread: setpriority on a pid names one thread
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, int(task.name), variant.nice)
    return Broker(bootstrap, process, layout.gc_log)


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Window:
    """What one measurement window of one variant found."""

    variant: str
    load1: float
    publish_ms: list[float] = field(default_factory=list)
    deliver_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)
    gc_ms: list[float] = field(default_factory=list)
    slow_in_gc: str = ""
    broker_cpu: float = 0.0
    bench_cpu: float = 0.0
    broker_wait_ms: float = 0.0
    bench_wait_ms: float = 0.0
    lost: int = 0


def run_queue(pid: int) -> tuple[float, int]:
    """Seconds the threads of ``pid`` have waited for a CPU while runnable, and how many times
    they were put on one (``/proc/PID/task/*/schedstat``)."""
    waited, slices = 0.0, 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            _, wait_ns, count = (task / "schedstat").read_text().split()
            waited += int(wait_ns) / 1e9
            slices += int(count)
    return waited, slices


class Usage:
    """CPU use and run-queue wait of the broker (or echo server) and this process, from the
    start of a window to :meth:`finish`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = time.monotonic()
        self.cpu = cpu_seconds(pid), cpu_seconds(os.getpid())
        self.queue = run_queue(pid), run_queue(os.getpid())

    def finish(self, window: Window) -> None:
        span = time.monotonic() - self.start
        window.broker_cpu = (cpu_seconds(self.pid) - self.cpu[0]) / span
        window.bench_cpu = (cpu_seconds(os.getpid()) - self.cpu[1]) / span
        waits = []
        for before, pid in zip(self.queue, (self.pid, os.getpid()), strict=True):
            after = run_queue(pid)
            waits.append((after[0] - before[0]) * 1000 / max(1, after[1] - before[1]))
        window.broker_wait_ms, window.bench_wait_ms = waits


async def loop_lag(into: list[float], period: float = 0.005) -> None:
    while True:
        before = time.monotonic()
        await asyncio.sleep(period)
        into.append((time.monotonic() - before - period) * 1000)


async def paced(seconds: float, rate: float, send: Callable[[int], Awaitable[None]]) -> None:
    """``send(seq)`` ``rate`` times a second for ``seconds``, each in a task of its own."""
    start = time.monotonic()
    sends = []
    for seq in range(1, int(seconds * rate) + 1):
        await asyncio.sleep(max(0.0, start + seq / rate - time.monotonic()))
        sends.append(asyncio.create_task(send(seq)))
    await asyncio.gather(*sends)


def slow_in_gc(spans: list[tuple[float, float]], pauses: list[tuple[float, float]]) -> str:
    """Of the slowest 1 % of deliveries (sent, received), how many overlap a GC pause."""
    slowest = sorted(spans, key=lambda s: s[0] - s[1])[: max(1, len(spans) // 100)]
    hit = sum(
        any(sent < end and end - ms / 1000 < got for end, ms in pauses) for sent, got in slowest
    )
    return f"{hit}/{len(slowest)}"


async def drained(sent: dict[int, float], timeout: float) -> None:
    """Wait until every message sent has come back (or ``timeout`` passes)."""
    deadline = time.monotonic() + timeout
    while sent and time.monotonic() < deadline:  # noqa: ASYNC110 (polls a dict, no event)
        await asyncio.sleep(0.01)


async def measure(
    broker: Broker, variant: Variant, topic: str, seconds: float, rate: float, size: int
) -> Window:
    """One window: paced publishes, a plain consumer, the loop-lag timer, GC and CPU."""
    profile = BrokerProfile("bench", tansu_workarounds=False)
    window = Window(variant.name, os.getloadavg()[0])
    producer = make_producer(broker.bootstrap, profile, **dict(variant.producer))
    consumer = make_consumer(
        broker.bootstrap, profile, [topic], group_id=None, auto_offset_reset="latest",
        **dict(variant.consumer),
    )  # fmt: skip
    await producer.start()
    await consumer.start()
    sent: dict[int, float] = {}
    spans: list[tuple[float, float]] = []

    async def consume() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=variant.getmany_ms)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    (seq,) = struct.unpack_from(">q", record.value)
                    at = sent.pop(seq, None)
                    if at is not None:
                        window.deliver_ms.append((now - at) * 1000)
                        spans.append((at, now))

    async def publish(seq: int) -> None:
        value = struct.pack(">q", seq) + b"x" * max(0, size - 8)
        at = sent[seq] = time.monotonic()
        await producer.send_and_wait(topic, value, key=f"k{seq % KEYS}".encode())
        window.publish_ms.append((time.monotonic() - at) * 1000)

    tasks = [asyncio.create_task(consume()), asyncio.create_task(loop_lag(window.lag_ms))]
    try:
        await producer.send_and_wait(topic, b"\0" * 8, key=b"warm")  # connections, metadata
        await asyncio.sleep(1.0)  # the consumer's first fetches
        window.lag_ms.clear()
        window.deliver_ms.clear()
        spans.clear()
        broker.gc_since_mark()
        usage = Usage(broker.process.pid)
        await paced(seconds, rate, publish)
        await drained(sent, 10.0)
        usage.finish(window)
        pauses = broker.gc_since_mark()
        window.gc_ms = [ms for _, ms in pauses]
        window.slow_in_gc = slow_in_gc(spans, pauses)
        window.lost = len(sent)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
    return window


ECHO_SERVER = """
import socket, sys
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
conn, _ = server.accept()
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while data := conn.recv(65536):
    conn.sendall(data)
"""


async def measure_echo(seconds: float, rate: float, size: int) -> Window:
    """The floor of any request/answer between two processes here: paced ``size``-byte
    messages to a Python process that sends them straight back over loopback TCP (the
    broker's place taken by one recv and one send)."""
    window = Window("loopback echo", os.getloadavg()[0])
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ECHO_SERVER, stdout=asyncio.subprocess.PIPE
    )
    assert server.stdout is not None
    port = int(await server.stdout.readline())
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sent: dict[int, float] = {}

    async def answers() -> None:
        while True:
            data = await reader.readexactly(size)
            (seq,) = struct.unpack_from(">q", data)
            window.publish_ms.append((time.monotonic() - sent.pop(seq)) * 1000)

    async def send(seq: int) -> None:
        sent[seq] = time.monotonic()
        writer.write(struct.pack(">q", seq) + b"x" * max(0, size - 8))

    tasks = [asyncio.create_task(answers()), asyncio.create_task(loop_lag(window.lag_ms))]
    try:
        usage = Usage(server.pid)
        await paced(seconds, rate, send)
        await drained(sent, 10.0)
        usage.finish(window)
        window.lost = len(sent)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        writer.close()
        await server.wait()
    return window


async def java_producer_perf(
    runtime: KafkaRuntime, broker: Broker, topic: str, seconds: float, rate: float, size: int
) -> str:
    """Kafka's own ProducerPerformance (acks=all, idempotent, paced): its summary line."""
    argv = [
        str(runtime.java), "-Xmx128m", "-XX:+UseSerialGC", "-cp", runtime.classpath,
        "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
        "--num-records", str(int(seconds * rate)), "--record-size", str(size),
        "--throughput", str(rate), "--producer-props", f"bootstrap.servers={broker.bootstrap}",
        "acks=all", "linger.ms=0",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    lines = [line for line in out.decode().splitlines() if "99th" in line]
    return lines[-1] if lines else out.decode()[-500:]


def row(w: Window) -> str:
    gc = f"{len(w.gc_ms)} / {max(w.gc_ms, default=0):.1f} / {w.slow_in_gc or '-'}"
    return (
        f"| {w.variant} | {w.load1:.1f} | {pct(w.publish_ms, 0.5):.1f} / "
        f"{pct(w.publish_ms, 0.99):.1f} / {max(w.publish_ms, default=float('nan')):.1f} | "
        f"{pct(w.deliver_ms, 0.5):.1f} / {pct(w.deliver_ms, 0.99):.1f} / "
        f"{max(w.deliver_ms, default=float('nan')):.1f} | {pct(w.lag_ms, 0.99):.1f} / "
        f"{max(w.lag_ms, default=float('nan')):.1f} | {gc} | {w.broker_cpu:.0%} / "
        f"{w.bench_cpu:.0%} | {w.broker_wait_ms:.2f} / {w.bench_wait_ms:.2f} | {w.lost} |"
    )


HEADER = (
    "| variant | load1 | publish p50 / p99 / max ms | delivery p50 / p99 / max ms "
    "| loop lag p99 / max ms | GC pauses: n / max ms / slowest 1 % in one | CPU broker / bench "
    "| run-queue wait per slice broker / bench ms | lost |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def summary(windows: list[Window]) -> None:
    print("\n# per variant, over its windows: median of the windows' p99 (min-max)")
    by: dict[str, list[Window]] = {}
    for w in windows:
        by.setdefault(w.variant, []).append(w)
    print(
        "| variant | publish p99 ms | delivery p99 ms | loop lag p99 ms | GC max ms "
        "| broker run-queue wait per slice ms |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, ws in by.items():
        cells = []
        for get in (
            lambda w: pct(w.publish_ms, 0.99),
            lambda w: pct(w.deliver_ms, 0.99),
            lambda w: pct(w.lag_ms, 0.99),
            lambda w: max(w.gc_ms, default=0.0),
            lambda w: w.broker_wait_ms,
        ):
            values = [get(w) for w in ws]
            cells.append(f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})")
        print(f"| {name} | " + " | ".join(cells) + " |")


async def create_topic(bootstrap: str, topic: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()


async def bench(args: argparse.Namespace) -> None:
    table = variants()
    chosen = [table[name] for name in args.variants]
    settings = load_settings()
    runtime = kafka_runtime(
        settings.cache_dir or default_cache_dir(), settings.maven_repo_url, settings.java_home
    )
    work = Path(tempfile.mkdtemp(prefix="bench-broker-"))
    brokers: dict[tuple[Any, ...], Broker] = {}
    try:
        for variant in chosen:
            if variant.broker_key not in brokers:
                root = work / f"broker{len(brokers)}"
                brokers[variant.broker_key] = await start_broker(runtime, variant, root)
                await create_topic(brokers[variant.broker_key].bootstrap, "latency")
                await create_topic(brokers[variant.broker_key].bootstrap, "java")
        print(f"# {os.uname().nodename} nproc={os.cpu_count()} {len(brokers)} broker(s); "
              f"{args.rate:g} records/s of {args.size} B for {args.seconds:g} s per window, "
              f"{args.rounds} rounds; load average at start {os.getloadavg()}")  # fmt: skip
        if args.warmup:  # the JIT compiles the hot paths of a fresh broker: not measured
            for key, broker in brokers.items():
                variant = next(v for v in chosen if v.broker_key == key)
                await measure(broker, variant, "latency", args.warmup, args.rate, args.size)
        print(HEADER, flush=True)
        windows = []
        for _ in range(args.rounds):
            if args.echo:
                windows.append(await measure_echo(args.seconds, args.rate, args.size))
                print(row(windows[-1]), flush=True)
            for variant in chosen:
                broker = brokers[variant.broker_key]
                window = await measure(
                    broker, variant, "latency", args.seconds, args.rate, args.size
                )
                windows.append(window)
                print(row(window), flush=True)
            if args.java:
                for key, broker in brokers.items():
                    name = next(v.name for v in chosen if v.broker_key == key)
                    line = await java_producer_perf(
                        runtime, broker, "java", args.seconds, args.rate, args.size
                    )
                    print(f"# java ProducerPerformance on {name}: {line}", flush=True)
        summary(windows)
    finally:
        for broker in brokers.values():
            stop(broker.process)
        if args.keep:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", nargs="+", default=["project", "serial"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds of unmeasured load per broker first"
    )
    parser.add_argument("--java", action="store_true", help="also Kafka's ProducerPerformance")
    parser.add_argument(
        "--echo", action="store_true", help="also a loopback echo between two processes"
    )
    parser.add_argument("--keep", action="store_true", help="keep the brokers' folders (logs)")
    parser.add_argument("--list", action="store_true", help="name the variants and exit")
    args = parser.parse_args()
    if args.list:
        for variant in variants().values():
            print(variant)
        return
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
