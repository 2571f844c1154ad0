"""The code interpreter's Python kernel: one long-lived IPython shell, driven by the agent.

The agent starts one driver per code context (as the sandbox user, in the context's cwd)
with these file descriptors:

  0     /dev/null: user code that reads stdin gets EOF, never the control channel
  1, 2  read by the agent. Everything written there (print, C extensions, child
        processes, threads) is the running execution's stdout / stderr
  3     events to the agent, one JSON object per line
  4     commands from the agent, one JSON object per line

Commands:
  {"op": "init", "marker": str, "global_env": {k: v}}
                                   first line: the sync marker prefix (see Channel) and
                                   the sandbox-wide variables the kernel started with
  {"op": "execute", "code": str, "env": {k: v}, "global_env": {k: v}}

Events (every event but "ready" carries "seq"):
  {"ev": "ready"}                                   the shell is up
  {"seq", "ev": "started", "execution_count": int}  user code is about to run
  {"seq", "ev": "display", "data": {mime: value}, "main": bool}
  {"seq", "ev": "error", "name": str, "value": str, "traceback": str}
  {"seq", "ev": "sync"}                             no content: orders stdout against
                                                    stderr (see OrderedText)
  {"seq", "ev": "done"}                             the execution is over

Interrupts arrive as SIGINT; see Interrupts.
"""

import base64
import contextlib
import ctypes
import io
import json
import math
import os
import signal
import sys
import threading
import traceback

EVENTS_FD = 3
COMMANDS_FD = 4
SEQ_FORMAT = b"%012x"  # the agent parses exactly 12 lowercase hex digits after the prefix

DRIVER_DIR = sys.path[0]


class Interrupts:
    """SIGINT raises KeyboardInterrupt only while user code runs, and never halfway
    through writing an event (a torn event line would break the protocol): inside a
    critical section the interrupt is deferred to the section's end. Between executions
    SIGINT is ignored, so a late interrupt for a finished run cannot hit the next one."""

    def __init__(self):
        self.in_user_code = False
        self._depth = 0
        self._pending = False
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, _signum, _frame):
        if not self.in_user_code:
            return
        if self._depth:
            self._pending = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def critical(self):
        # Python runs signal handlers in the main thread only, so only it needs deferring.
        main = threading.current_thread() is threading.main_thread()
        if main:
            self._depth += 1
        try:
            yield
        finally:
            if main:
                self._depth -= 1
                if not self._depth and self._pending:
                    self._pending = False
                    if self.in_user_code:
                        raise KeyboardInterrupt


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Channel:
    """Sends events to the agent, each one ordered against stdout and stderr.

    Before an event goes out, Python's buffers and C stdio are flushed and a marker
    (prefix + sequence number) is written to fd 1 and fd 2. The agent strips markers
    and holds the event until both pipes have reached its marker, so output written
    before the event is delivered before it, and output written after it, after it."""

    def __init__(self, prefix, interrupts):
        self._prefix = prefix
        self._interrupts = interrupts
        self._lock = threading.Lock()
        self._seq = 0
        self._pid = os.getpid()
        # Markers go to private duplicates, so user code that closes or redirects
        # fd 1 or 2 cannot make the agent wait forever for a marker.
        self._out = os.dup(1)
        self._err = os.dup(2)
        self._libc = ctypes.CDLL(None)
        self._last_stream = None  # written to since the last event (see OrderedText)

    def ready(self):
        _write_all(EVENTS_FD, b'{"ev": "ready"}\n')

    def emit(self, event):
        # A process forked from the kernel (multiprocessing) shares fd 3; only the
        # kernel itself may speak the protocol.
        if os.getpid() != self._pid:
            return
        body = json.dumps(event, allow_nan=False)[1:].encode("ascii")
        with self._interrupts.critical(), self._lock:
            for stream in (sys.__stdout__, sys.__stderr__):
                with contextlib.suppress(Exception):
                    stream.flush()
            self._libc.fflush(None)
            self._seq += 1
            marker = self._prefix + SEQ_FORMAT % self._seq
            _write_all(self._out, marker)
            _write_all(self._err, marker)
            _write_all(EVENTS_FD, b'{"seq": %d, ' % self._seq + body + b"\n")
            self._last_stream = None

    def before_write(self, name):
        """Called before text is written to sys.stdout or sys.stderr (name 1 or 2): a
        switch from one to the other since the last event gets a sync point first."""
        last, self._last_stream = self._last_stream, name
        if last is not None and last != name:
            self.emit({"ev": "sync"})


class OrderedText(io.TextIOWrapper):
    """sys.stdout and sys.stderr. fd 1 and fd 2 are separate pipes, so by themselves
    they tell the agent nothing about how lines on one interleave with lines on the
    other: print(a); print(b, file=sys.stderr); print(c) could arrive as a, c, b. A
    write that switches streams is preceded by a sync event, whose markers put what
    was written before the switch ahead of what is written after it. (Writes that
    bypass these objects, from child processes or to sys.stdout.buffer, are ordered
    against events only.)"""

    channel = None
    fd = None

    def write(self, text):
        if text and self.channel is not None:
            self.channel.before_write(self.fd)
        return super().write(text)


def install_ordered_streams(channel):
    for name in ("stdout", "stderr"):
        old = getattr(sys, name)
        encoding = old.encoding
        new = OrderedText(old.detach(), encoding=encoding, errors="backslashreplace",
                          newline="\n", line_buffering=True)
        new.channel = channel
        new.fd = 1 if name == "stdout" else 2
        setattr(sys, name, new)
        setattr(sys, "__%s__" % name, new)


def json_safe(value):
    """What the agent can parse: NaN and infinities become null, numpy and pandas
    values become plain numbers, lists and ISO strings, bytes become base64."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    with contextlib.suppress(Exception):
        if value != value:  # NaN-like scalars: numpy.nan, pandas.NaT, pandas.NA
            return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    return str(value)


def _safe_str(value):
    try:
        return str(value)
    except Exception:
        return "<unprintable %s>" % type(value).__name__


def build_shell(channel):
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.formatters import BaseFormatter
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import ObjectName, Type
    from traitlets.config import Config

    def send_display(data, main):
        channel.emit({"ev": "display", "data": json_safe(data), "main": main})

    class ResultHook(DisplayHook):
        """The cell's last expression value: a main result."""

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            send_display(format_dict, True)

        def finish_displayhook(self):
            pass

    class DisplaySender(DisplayPublisher):
        """display(), plt.show() and friends: display results."""

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            send_display(data, False)

        def clear_output(self, wait=False):
            pass  # results are a list, not a screen: nothing to clear

    class DriverShell(InteractiveShell):
        displayhook_class = Type(ResultHook)
        display_pub_class = Type(DisplaySender)
        # `!cmd` runs through the shell with the kernel's own fds 1 and 2, so its output
        # streams straight to the agent (the default pexpect path would need a pty).
        system = InteractiveShell.system_raw

        def _showtraceback(self, etype, evalue, stb):
            channel.emit({
                "ev": "error",
                "name": etype.__name__,
                "value": _safe_str(evalue),
                "traceback": self.InteractiveTB.stb2text(stb),
            })

        def show_usage_error(self, exc):
            channel.emit({"ev": "error", "name": "UsageError", "value": _safe_str(exc),
                          "traceback": "UsageError: %s" % _safe_str(exc)})

        def enable_gui(self, gui=None):
            if gui not in (None, "inline"):
                raise RuntimeError("the sandbox has no display: only the inline matplotlib backend is available")

    class JsonFormatter(BaseFormatter):
        """A MIME type whose value is a JSON object (e2b/data, e2b/chart)."""

        _return_type = (dict,)
        print_method = ObjectName("_repr_e2b_json_")

    class ChartFormatter(JsonFormatter):
        """Charts for matplotlib figures. Not a type printer: matplotlib's IPython
        integration removes every formatter's Figure printer whenever the figure
        formats are (re)selected, as %matplotlib inline does."""

        def __call__(self, obj):
            figure = sys.modules.get("matplotlib.figure")
            if self.enabled and figure is not None and isinstance(obj, figure.Figure):
                return figure_chart(obj)
            return None

    config = Config()
    config.HistoryManager.enabled = False  # no sqlite file shared between contexts
    shell = DriverShell.instance(config=config)

    formatters = shell.display_formatter.formatters
    data = JsonFormatter(parent=shell.display_formatter, format_type="e2b/data")
    data.for_type_by_name("pandas.core.frame", "DataFrame", lambda df: df.to_dict(orient="list"))
    formatters["e2b/data"] = data
    formatters["e2b/chart"] = ChartFormatter(parent=shell.display_formatter, format_type="e2b/chart")
    return shell


def _load_chart_extractor():
    try:
        from e2b_charts import chart_from_figure
    except ImportError:
        return None
    return chart_from_figure


chart_from_figure = None


def figure_chart(fig):
    # A chart is extra information on top of the PNG: a figure the extractor cannot
    # read still shows as an image instead of failing the user's code.
    if chart_from_figure is None:
        return None
    try:
        return chart_from_figure(fig)
    except Exception:
        return None


def prepare_sys_path():
    """User code imports from its cwd first, as in Jupyter; the driver's directory
    (home of e2b_charts) stays reachable at the end."""
    global chart_from_figure
    # Imported while the driver's directory is still first, so a file of the same
    # name in the user's cwd cannot stand in for it.
    chart_from_figure = _load_chart_extractor()
    if sys.path and sys.path[0] == DRIVER_DIR:
        sys.path.pop(0)
    sys.path.insert(0, "")
    sys.path.append(DRIVER_DIR)


def warm_up(shell):
    """Import what most code needs before the first execution asks for it."""
    with contextlib.suppress(Exception):
        shell.enable_matplotlib("inline")
    with contextlib.suppress(Exception):
        import numpy  # noqa: F401
        import pandas  # noqa: F401


class Environment:
    """Sandbox-wide variables stay set; per-execution ones are undone afterwards."""

    def __init__(self):
        self._global = {}

    def apply_global(self, env):
        for key in self._global.keys() - env.keys():
            os.environ.pop(key, None)
        for key, value in env.items():
            if self._global.get(key) != value:
                os.environ[key] = value
        self._global = dict(env)

    @contextlib.contextmanager
    def scoped(self, env):
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def execute(shell, channel, interrupts, environment, command):
    environment.apply_global(command.get("global_env") or {})
    with environment.scoped(command.get("env") or {}):
        interrupts.in_user_code = True
        try:
            try:
                channel.emit({"ev": "started", "execution_count": shell.execution_count})
                shell.run_cell(command["code"], store_history=True)
            finally:
                interrupts.in_user_code = False
        except BaseException as exc:  # an interrupt that landed outside IPython's own handling
            channel.emit({"ev": "error", "name": type(exc).__name__, "value": _safe_str(exc),
                          "traceback": "".join(traceback.format_exception(exc))})
    channel.emit({"ev": "done"})


def main():
    for fd in (EVENTS_FD, COMMANDS_FD):
        os.set_inheritable(fd, False)  # child processes of user code must not see them
    commands = os.fdopen(COMMANDS_FD, "rb")
    init = json.loads(commands.readline())
    interrupts = Interrupts()
    channel = Channel(init["marker"].encode("latin-1"), interrupts)
    # Each line reaches the agent as it is printed, in order across stdout and stderr;
    # text Python cannot encode is escaped rather than failing the print, as in Jupyter.
    install_ordered_streams(channel)
    environment = Environment()
    environment.apply_global(init.get("global_env") or {})
    prepare_sys_path()
    shell = build_shell(channel)
    channel.ready()
    warm_up(shell)

    for line in commands:
        command = json.loads(line)
        if command.get("op") == "execute":
            execute(shell, channel, interrupts, environment, command)


if __name__ == "__main__":
    main()
