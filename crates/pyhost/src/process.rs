//! One Python host process: `python -u lakeflow_host.py`, spoken to in JSON lines (one request,
//! one answer) over its stdin and stdout. A chunk of records may come as a header line
//! (`{"ok": {"marshal": <bytes>, "done": ...}}`) followed by that many bytes of marshal data,
//! which a reader thread takes out of the pipe while the caller is still busy with the previous
//! chunk. Its
//! stderr (the connector's prints and logs) is forwarded to our log, and its last lines are
//! kept for the error when the process dies.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value};

/// The stderr lines kept for an error message when the process dies.
const STDERR_TAIL: usize = 20;

/// Why a call got no answer, or the answer the connector's code failed with.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The connector raised: `{"error": {type, message, method, traceback, module?, table?}}`.
    Raised(Map<String, Value>),
    /// The process could not be started or stopped answering: what happened, and the tail of
    /// its stderr.
    Died { what: String, stderr: String },
    /// No answer within the timeout; the process was killed.
    Hung(Duration),
}

/// One answer as the reader thread passes it on: a JSON line, or the bytes of a marshal chunk.
enum Incoming {
    Line(String),
    Chunk {
        bytes: Vec<u8>,
        done: bool,
    },
    /// The output could not be read.
    Broken(String),
}

/// A running host process.
pub(crate) struct HostProcess {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<Incoming>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    timeout: Duration,
}

impl HostProcess {
    /// Starts `python` on the host script `host`, in the current directory, with `pythonpath`
    /// in front of `$PYTHONPATH`.
    pub(crate) fn spawn(
        python: &str,
        host: &Path,
        pythonpath: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, Failure> {
        let mut command = Command::new(python);
        if let Some(extra) = pythonpath.filter(|p| !p.is_empty()) {
            let path = match std::env::var_os("PYTHONPATH") {
                Some(old) if !old.is_empty() => {
                    let mut joined = std::ffi::OsString::from(extra);
                    joined.push(if cfg!(windows) { ";" } else { ":" });
                    joined.push(old);
                    joined
                }
                _ => extra.into(),
            };
            command.env("PYTHONPATH", path);
        }
        let mut child = command
            .arg("-u")
            .arg(host)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Failure::Died {
                what: format!("cannot start Python `{python}`: {e}"),
                stderr: String::new(),
            })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            unreachable!("all three streams are piped");
        };
        // A thread per pipe: answers are waited for with a timeout, and stderr must be drained
        // or a chatty connector blocks on a full pipe.
        let (send, answers) = channel();
        // A thread that only moves answers out of the pipe, so the connector never waits on a
        // full pipe while a chunk is decoded (by the caller: decoding on the thread that later
        // drops the records measured faster than a decoding thread of its own).
        std::thread::spawn(move || read_answers(BufReader::new(stdout), &send));
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let kept = Arc::clone(&tail);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                tracing::debug!(target: "lakeflow_pyhost::stderr", "{line}");
                let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
                if kept.len() == STDERR_TAIL {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        Ok(Self {
            child,
            stdin,
            answers,
            stderr: tail,
            timeout,
        })
    }

    /// Sends `request` and waits for its answer: the `ok` value, or why there is none.
    pub(crate) fn call(&mut self, request: &Value) -> Result<Value, Failure> {
        self.send(request)?;
        self.receive()
    }

    /// Sends `request` without waiting for its answer (see [`HostProcess::receive`]).
    pub(crate) fn send(&mut self, request: &Value) -> Result<(), Failure> {
        let mut line = request.to_string();
        line.push('\n');
        match self
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
        {
            Ok(()) => Ok(()),
            Err(e) => Err(self.died(format!("the host stopped reading requests ({e})"))),
        }
    }

    /// The answer to the oldest request not yet answered.
    pub(crate) fn receive(&mut self) -> Result<Value, Failure> {
        let text = match self.answers.recv_timeout(self.timeout) {
            Ok(Incoming::Line(text)) => text,
            Ok(Incoming::Chunk { bytes, done }) => {
                return match crate::marshal::read(&bytes) {
                    // Built by hand: `json!` would copy the whole chunk.
                    Ok(records) => Ok(Value::Object(Map::from_iter([
                        ("records".to_owned(), records),
                        ("done".to_owned(), Value::Bool(done)),
                    ]))),
                    Err(e) => Err(self.died(format!("a chunk of records could not be read: {e}"))),
                };
            }
            Ok(Incoming::Broken(what)) => return Err(self.died(what)),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.exit_status();
                return Err(self.died(status));
            }
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                return Err(Failure::Hung(self.timeout));
            }
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(mut answer)) => {
                if let Some(ok) = answer.remove("ok") {
                    return Ok(ok);
                }
                match answer.remove("error") {
                    Some(Value::Object(error)) => Err(Failure::Raised(error)),
                    _ => Err(self.died("it answered without `ok` or `error`".to_owned())),
                }
            }
            _ => Err(self.died(format!(
                "it wrote a line that is not a JSON answer ({} bytes)",
                text.len()
            ))),
        }
    }

    fn exit_status(&mut self) -> String {
        // The pipe closed: the process is exiting; give it a moment to be reaped.
        match self.child.wait() {
            Ok(status) => format!("the Python process exited ({status})"),
            Err(e) => format!("the Python process is gone ({e})"),
        }
    }

    fn died(&mut self, what: String) -> Failure {
        self.kill();
        let stderr = self
            .stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        Failure::Died { what, stderr }
    }

    /// Stops the process (idempotent).
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Passes the host's answers on until its output ends: lines as they are, marshal chunks (a
/// header line, then the bytes it announces) as their bytes.
fn read_answers(mut stdout: impl BufRead, send: &std::sync::mpsc::Sender<Incoming>) {
    let mut line = Vec::new();
    loop {
        line.clear();
        let incoming = match stdout.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => match String::from_utf8(std::mem::take(&mut line)) {
                Ok(text) => match marshal_header(&text) {
                    Some((len, done)) => read_chunk(&mut stdout, len, done),
                    None => Incoming::Line(text),
                },
                Err(_) => Incoming::Broken("it wrote a line that is not UTF-8".to_owned()),
            },
            Err(e) => Incoming::Broken(format!("its output could not be read ({e})")),
        };
        let broken = matches!(incoming, Incoming::Broken(_));
        if send.send(incoming).is_err() || broken {
            return;
        }
    }
}

/// `(length, done)` of a marshal chunk's header line.
fn marshal_header(line: &str) -> Option<(usize, bool)> {
    if !line.starts_with(r#"{"ok":{"marshal":"#) {
        return None;
    }
    let header: Value = serde_json::from_str(line).ok()?;
    let chunk = header.get("ok")?;
    let len = usize::try_from(chunk.get("marshal")?.as_u64()?).ok()?;
    Some((len, chunk.get("done")?.as_bool()?))
}

fn read_chunk(stdout: &mut impl Read, len: usize, done: bool) -> Incoming {
    let mut bytes = vec![0; len];
    if let Err(e) = stdout.read_exact(&mut bytes) {
        return Incoming::Broken(format!("a chunk of records ended early ({e})"));
    }
    Incoming::Chunk { bytes, done }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
