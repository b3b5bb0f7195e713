"""End to end on Telegram: updates/s of the real bot against a bare python-telegram-bot bot.

Run: .venv/bin/python -m bench.end_to_end [--citizens 20] [--rounds 4] [--concurrency 16]

Both bots run as their own processes at the same time, each polling its own instance of the
local fake Bot API server (tests.fakes.FakeTelegramServer; both in this process and event
loop, since one token serves one poller), with the platform's pacing lifted:
- `feedbackbot run` on a fresh SQLite file, with MAX_CONCURRENT_TURNS set to the bound;
- `bench.bare_bot`, which makes the same Bot API calls per press (answerCallbackQuery,
  editMessageText, sendMessage with five buttons), stores nothing, and handles as many updates
  at once as the bound.
Citizens all press at once, each pressing again as soon as the next question arrived. Only the
presses answering questions are timed; /start, consent, choosing the service and submitting
are setup, done outside the measured windows. The bots take turns round by round (the other
one idles in its long poll), so load from elsewhere on the machine hits both alike. Issue 9's
target is a ratio ≥ 0.6.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.bare_bot import SCALE
from tests.e2e.telegram_bot import Citizen
from tests.fakes import FakeTelegramServer

Step = tuple[str, str, str]
"""("type" or "tap", the text typed or a part of the button's label, text the reply contains)."""
Press = tuple[str, str]
"""(a part of the button's label, text the next question contains)."""

STARTUP_SECONDS = 120.0
STOP_SECONDS = 10.0
RUN_SECONDS = 1800.0
ROOT = Path(__file__).resolve().parent.parent
"""Where `bench` is importable from: the bots run in a temporary directory."""
LIFTED = "1000000"
"""Pacing so high it never waits: the fake server does not throttle either."""


@dataclass(frozen=True)
class Script:
    """What every citizen does with one bot: `first` once, then per round `open`, the timed
    `presses` and `close`."""

    first: tuple[Step, ...]
    open: tuple[Step, ...]
    presses: tuple[Press, ...]
    close: tuple[Step, ...]


REAL = Script(
    first=(
        ("type", "/start", "Thông báo về dữ liệu cá nhân"),
        ("tap", "Tôi đồng ý", "Mời Ông/Bà chọn chức năng"),
    ),
    open=(
        ("tap", "Đánh giá dịch vụ", "Ông/Bà đã làm thủ tục tại cơ quan nào?"),
        ("tap", "Cơ quan cấp tỉnh", "Xin chọn cơ quan"),
        ("tap", "Sở Tư pháp", "thực hiện thủ tục hoặc sử dụng dịch vụ công nào"),
        ("tap", "lý lịch tư pháp", "Yếu tố 1/5"),
    ),
    presses=(
        ("4 – Hài lòng", "Yếu tố 2/5"),
        ("5 – Rất hài lòng", "Yếu tố 3/5"),
        ("3 – Bình thường", "Yếu tố 4/5"),
        ("3 – Bình thường", "Yếu tố 5/5"),
        ("Bỏ qua", "ngày hẹn"),
        ("Trễ hẹn", "Phiếu xin lỗi"),
        ("Không nhớ rõ", "giấy tờ ngoài danh mục"),
        ("Có", "bao nhiêu lần"),
        ("2 lần", "hình thức nào"),
        ("bưu chính", "đưa tiền hoặc quà"),
        ("Không muốn trả lời", "góp ý gì thêm"),
    ),
    close=(
        ("type", "Nên bố trí thêm ghế chờ.", "kiểm tra lại các câu trả lời"),
        ("tap", "Gửi đánh giá", "có muốn gửi phản ánh"),  # offered after a low score
        ("tap", "Không, cảm ơn", "Mời Ông/Bà chọn chức năng"),
    ),
)

BARE = Script(
    first=(("type", "/start", "Câu hỏi 1 "),),
    open=(),
    presses=tuple((SCALE[n % len(SCALE)], "Câu hỏi") for n in range(len(REAL.presses))),
    close=(),
)


@dataclass
class Result:
    """One bot's measured presses, summed over its windows."""

    name: str
    presses: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    windows: list[float] = field(default_factory=list)
    """updates/s of each round, to see how steady the figure is."""
    bot_cpu: float = 0.0
    driver_cpu: float = 0.0
    """CPU seconds in the windows of the bot's process and of this one (fake server, citizens):
    on a small machine they share the cores, so both bound the rate."""

    @property
    def per_second(self) -> float:
        return self.presses / self.seconds if self.seconds else 0.0


@dataclass
class Contender:
    """A running bot, its own fake server and the citizens talking to it."""

    tg: FakeTelegramServer
    pid: int
    log: Path
    script: Script
    citizens: list[Citizen]
    result: Result


Launch = tuple[list[str], dict[str, str]]
"""The command line and the extra environment of a bot process."""


class Namespace(argparse.Namespace):
    citizens: int
    rounds: int
    concurrency: int
    poll_timeout: int


def machine() -> str:
    """Absolute figures mean little without the machine they were measured on."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def load() -> str:
    """Other work on the machine skews absolute figures; the ratio is what to compare."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (this one without a pid); 0 where /proc is absent."""
    if pid is None:
        return time.process_time()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


async def perform(citizen: Citizen, steps: Sequence[Step]) -> None:
    for kind, text, expected in steps:
        act = citizen.type if kind == "type" else citizen.tap
        await act(text, expected)


async def press_all(citizen: Citizen, presses: Sequence[Press], latencies: list[float]) -> None:
    """Press, wait for the next question, press again: the latency is press to question."""
    for label, expected in presses:
        started = time.perf_counter()
        await citizen.tap(label, expected)
        latencies.append(time.perf_counter() - started)


async def everyone(citizens: Sequence[Citizen], act: Callable[[Citizen], Awaitable[None]]) -> None:
    await asyncio.gather(*(act(citizen) for citizen in citizens))


async def one_round(bot: Contender) -> None:
    """Every citizen through one rating; only the window of answering presses is timed."""
    script, result, calls = bot.script, bot.result, bot.tg.calls
    await everyone(bot.citizens, lambda c: perform(c, script.open))
    calls_before = len(calls)
    bot_cpu, driver_cpu = cpu_seconds(bot.pid), cpu_seconds()
    started = time.perf_counter()
    await everyone(bot.citizens, lambda c: press_all(c, script.presses, result.latencies))
    elapsed = time.perf_counter() - started
    result.bot_cpu += cpu_seconds(bot.pid) - bot_cpu
    result.driver_cpu += cpu_seconds() - driver_cpu
    presses = len(bot.citizens) * len(script.presses)
    result.seconds += elapsed
    result.presses += presses
    result.windows.append(presses / elapsed)
    result.calls.update(call.method for call in calls[calls_before:])
    await everyone(bot.citizens, lambda c: perform(c, script.close))


@contextlib.asynccontextmanager
async def bot_process(
    launch: Launch, folder: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, Path]]:
    """A bot in its own process group, stopped (SIGTERM, then SIGKILL) however we leave."""
    argv, env = launch
    log = folder / "bot.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env={**os.environ, **env},
            cwd=folder,  # no stray .env file is read
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log
    finally:
        await stop(process)


async def stop(process: asyncio.subprocess.Process) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_SECONDS)


async def wait_polling(
    tg: FakeTelegramServer, process: asyncio.subprocess.Process, log: Path
) -> None:
    """Until the bot polls; fail with its log if it exits or takes too long to start."""

    def polling() -> bool:
        if process.returncode is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the bot exited with {process.returncode}:\n{tail}")
        return any(call.method == "getUpdates" for call in tg.calls)

    await tg.wait_until(polling, timeout=STARTUP_SECONDS, message="the bot polling")


async def start(
    stack: contextlib.AsyncExitStack,
    name: str,
    launch: Callable[[FakeTelegramServer, Path], Launch],
    script: Script,
    args: Namespace,
) -> Contender:
    """A fake server, the bot polling it in its own process, and its citizens past `first`."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"e2ebench-{name}-")))
    tg = await stack.enter_async_context(FakeTelegramServer())
    process, log = await stack.enter_async_context(bot_process(launch(tg, folder), folder))
    await wait_polling(tg, process, log)
    citizens = [Citizen(tg, chat) for chat in range(1001, 1001 + args.citizens)]
    await everyone(citizens, lambda c: perform(c, script.first))
    return Contender(tg, process.pid, log, script, citizens, Result(name))


def feedbackbot(args: Namespace) -> Callable[[FakeTelegramServer, Path], Launch]:
    """`feedbackbot run` on a fresh SQLite file, pacing lifted, turns bounded like the bare bot."""
    script = Path(sys.executable).with_name("feedbackbot")
    argv = [str(script), "run"] if script.exists() else [
        sys.executable, "-c", "from bot.cli import main; main()", "run"
    ]  # fmt: skip

    def launch(tg: FakeTelegramServer, folder: Path) -> Launch:
        return argv, {
            "ENV": "development",
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_BASE_URL": tg.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}",
            "PER_CHAT_BURST": LIFTED,
            "PER_CHAT_PERIOD_SECONDS": "1",
            "OVERALL_MESSAGES_PER_SECOND": LIFTED,
            "TELEGRAM_POLL_TIMEOUT_SECONDS": str(args.poll_timeout),
            "MAX_CONCURRENT_TURNS": str(args.concurrency),
        }

    return launch


def bare(args: Namespace) -> Callable[[FakeTelegramServer, Path], Launch]:
    """`bench.bare_bot`, importable from the temporary directory through PYTHONPATH."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

    def launch(tg: FakeTelegramServer, folder: Path) -> Launch:
        return [
            sys.executable,
            *("-m", "bench.bare_bot", "--token", tg.token, "--base-url", tg.base_url),
            *("--concurrency", str(args.concurrency), "--poll-timeout", str(args.poll_timeout)),
        ], {"PYTHONPATH": path}

    return launch


def print_logs(bots: Sequence[Contender]) -> None:
    """The end of each bot's log, when a run fails: the files are removed on exit."""
    for bot in bots:
        tail = bot.log.read_text(errors="replace")[-3000:] if bot.log.exists() else ""
        print(f"--- end of {bot.result.name}'s log ---\n{tail}", file=sys.stderr)


def cpu_use(result: Result) -> str:
    """CPU per press and each process's share of one core: a bot near 100 % is bound by CPU,
    one well below it by waiting (on its turns, the database or the network)."""
    parts = [("bot", result.bot_cpu), ("fake server and citizens", result.driver_cpu)]
    return "CPU per press: " + ", ".join(
        f"{name} {cpu / result.presses * 1000:.1f} ms ({cpu / result.seconds:.0%} of a core)"
        for name, cpu in parts
    )


def report(results: Sequence[Result], args: Namespace, loads: Sequence[str]) -> None:
    real, baseline = results
    print(f"machine: {machine()}; load average before {loads[0]}, after {loads[1]}")
    print(
        f"load: {args.citizens} citizens at once, {args.rounds} round(s) of "
        f"{len(REAL.presses)} presses each per bot; concurrency bound {args.concurrency}"
    )
    for result in results:
        per_press = ", ".join(
            f"{method} {count / result.presses:.2f}"
            for method, count in sorted(result.calls.items())
        )
        windows = ", ".join(f"{value:.1f}" for value in result.windows)
        print(
            f"{result.name:>12}: {result.presses} presses in {result.seconds:.2f} s = "
            f"{result.per_second:.1f} updates/s (rounds: {windows}); press to next question "
            f"p50 {percentile(result.latencies, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(result.latencies, 0.95) * 1000:.0f} ms"
        )
        print(f"{'':>12}  Bot API calls per press: {per_press}")
        print(f"{'':>12}  {cpu_use(result)}")
    ratio = real.per_second / baseline.per_second if baseline.per_second else 0.0
    print(f"ratio feedbackbot / bare: {ratio:.2f}× (issue 9 target ≥ 0.6×)")


async def main(args: Namespace) -> None:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # clean up
    loads = [load()]
    bots: list[Contender] = []
    async with contextlib.AsyncExitStack() as stack, asyncio.timeout(RUN_SECONDS):
        try:
            bots.append(await start(stack, "feedbackbot", feedbackbot(args), REAL, args))
            bots.append(await start(stack, "bare", bare(args), BARE, args))
            for number in range(args.rounds):
                for bot in bots if number % 2 else reversed(bots):
                    await one_round(bot)
        except Exception:
            print_logs(bots)  # before the temporary directories go
            raise
    loads.append(load())
    report([bot.result for bot in bots], args, loads)


def arguments() -> Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=20, help="citizens pressing at once")
    parser.add_argument("--rounds", type=int, default=4, help="ratings per citizen and bot")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="MAX_CONCURRENT_TURNS and the bare bot's"
    )
    parser.add_argument("--poll-timeout", type=int, default=1, help="getUpdates timeout, s")
    return parser.parse_args(namespace=Namespace())


if __name__ == "__main__":
    try:
        asyncio.run(main(arguments()))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("interrupted; the bots were stopped and their files removed")
