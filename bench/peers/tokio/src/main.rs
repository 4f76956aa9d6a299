// A minimal chat server of the text protocol on tokio: the "what the same protocol
// costs in Rust" peer for ../shared/loadgen. Not the project's server: no commands
// but /join, no nick changes, no history, no limits beyond the outbound bound.
//
// Usage: chat-peer-tokio [--echo] ADDR        (e.g. 127.0.0.1:7000)
//
// Shape: one thread (current_thread runtime; the server is pinned to one core), one
// task per connection that reads lines and, beside it, drains the connection's
// outbound queue. A broadcast is encoded once (`Bytes`) and the same buffer is
// queued to every member; the writer joins everything queued since its last write
// into one write. A member whose queue passes MAX_QUEUED bytes is cut off.
use bytes::Bytes;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Outbound bytes a member may have queued before it is disconnected as too slow.
const MAX_QUEUED: usize = 4 << 20;
/// First read buffer; it doubles while a line does not fit, up to MAX_LINE.
const READ_BUF: usize = 4096;
/// A line longer than this is dropped (the rest of it up to the next \n too).
const MAX_LINE: usize = 64 << 10;

struct Member {
    nick: Rc<str>,
    room: RefCell<Rc<str>>,
    queue: RefCell<Vec<Bytes>>,
    queued: Cell<usize>,
    dead: Cell<bool>,
    wake: Notify, // something was queued
    cut: Notify,  // too slow: the connection ends, even in the middle of a write
}

impl Member {
    fn send(&self, b: Bytes) {
        if self.dead.get() {
            return;
        }
        let n = self.queued.get() + b.len();
        if n > MAX_QUEUED {
            // too slow: drop what is queued and end the connection (a client that stopped
            // reading would never take a farewell line, nor the write it is stuck in)
            self.dead.set(true);
            self.queue.borrow_mut().clear();
            self.cut.notify_one();
            return;
        }
        self.queued.set(n);
        let mut q = self.queue.borrow_mut();
        q.push(b);
        if q.len() == 1 {
            self.wake.notify_one();
        }
    }
}

#[derive(Default)]
struct Hub {
    rooms: RefCell<HashMap<Rc<str>, Vec<Rc<Member>>>>,
    next_id: Cell<u64>,
}

impl Hub {
    fn join(&self, m: &Rc<Member>, room: Rc<str>) {
        self.leave(m);
        self.rooms.borrow_mut().entry(room.clone()).or_default().push(m.clone());
        *m.room.borrow_mut() = room;
    }

    fn leave(&self, m: &Rc<Member>) {
        let room = m.room.borrow().clone();
        let mut rooms = self.rooms.borrow_mut();
        if let Some(v) = rooms.get_mut(&room) {
            if let Some(i) = v.iter().position(|x| Rc::ptr_eq(x, m)) {
                v.swap_remove(i);
            }
            if v.is_empty() {
                rooms.remove(&room);
            }
        }
    }

    /// `[room] nick: text\n`, encoded once, queued to every member (the sender too).
    fn say(&self, m: &Member, text: &[u8]) {
        let room = m.room.borrow();
        let mut line = Vec::with_capacity(room.len() + m.nick.len() + text.len() + 6);
        line.push(b'[');
        line.extend_from_slice(room.as_bytes());
        line.extend_from_slice(b"] ");
        line.extend_from_slice(m.nick.as_bytes());
        line.extend_from_slice(b": ");
        line.extend_from_slice(text);
        line.push(b'\n');
        let line = Bytes::from(line);
        if let Some(members) = self.rooms.borrow().get(&*room) {
            for x in members {
                x.send(line.clone());
            }
        }
    }
}

fn handle_line(hub: &Hub, m: &Rc<Member>, line: &[u8]) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return;
    }
    if let Some(rest) = line.strip_prefix(b"/join ") {
        let name = String::from_utf8_lossy(rest).trim().trim_start_matches('#').to_ascii_lowercase();
        if name.is_empty() {
            m.send(Bytes::from_static(b"! usage: /join <room>\n"));
            return;
        }
        m.send(Bytes::from(format!("* {} joined {}\n", m.nick, name)));
        hub.join(m, name.into());
    } else if line.starts_with(b"//") {
        hub.say(m, &line[1..]);
    } else if line.starts_with(b"/") {
        m.send(Bytes::from_static(b"! unknown command (this peer knows /join)\n"));
    } else {
        hub.say(m, line);
    }
}

/// Reads lines until EOF; hands each complete line to `on_line`, or in echo mode
/// writes every chunk of complete lines back as it came.
async fn read_lines<R, F>(mut rd: R, mut on_line: F)
where
    R: AsyncReadExt + Unpin,
    F: FnMut(&[u8]),
{
    let mut buf = vec![0u8; READ_BUF];
    let mut have = 0;
    let mut skipping = false; // inside a line that was too long
    loop {
        if have == buf.len() {
            if buf.len() < MAX_LINE {
                buf.resize(buf.len() * 2, 0);
            } else {
                have = 0;
                skipping = true;
            }
        }
        let n = match rd.read(&mut buf[have..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut start = 0;
        let end = have + n;
        let mut i = have;
        while let Some(off) = buf[i..end].iter().position(|&c| c == b'\n') {
            let nl = i + off;
            if !skipping {
                on_line(&buf[start..nl]);
            }
            skipping = false;
            start = nl + 1;
            i = start;
        }
        buf.copy_within(start..end, 0);
        have = end - start;
    }
}

/// Drains the member's queue: everything queued since the last write goes out as one write.
async fn write_queued<W: AsyncWriteExt + Unpin>(mut wr: W, m: &Member) {
    let mut batch: Vec<Bytes> = Vec::new();
    let mut joined: Vec<u8> = Vec::new();
    loop {
        std::mem::swap(&mut batch, &mut *m.queue.borrow_mut());
        if batch.is_empty() {
            m.wake.notified().await;
            continue;
        }
        m.queued.set(0);
        let r = if batch.len() == 1 {
            wr.write_all(&batch[0]).await
        } else {
            joined.clear();
            for b in &batch {
                joined.extend_from_slice(b);
            }
            wr.write_all(&joined).await
        };
        batch.clear();
        if joined.capacity() > MAX_LINE {
            joined = Vec::new(); // do not keep a burst's buffer on an idle connection
        }
        if r.is_err() {
            return;
        }
    }
}

async fn chat_conn(hub: Rc<Hub>, mut s: TcpStream) {
    let id = hub.next_id.get() + 1;
    hub.next_id.set(id);
    let m = Rc::new(Member {
        nick: format!("guest-{id}").into(),
        room: RefCell::new("".into()),
        queue: RefCell::new(Vec::new()),
        queued: Cell::new(0),
        dead: Cell::new(false),
        wake: Notify::new(),
        cut: Notify::new(),
    });
    m.send(Bytes::from(format!(
        "* welcome to chat, you are {} in lobby (this peer knows /join)\n",
        m.nick
    )));
    hub.join(&m, "lobby".into());
    let (rd, wr) = s.split();
    tokio::select! {
        _ = read_lines(rd, |line| handle_line(&hub, &m, line)) => {}
        _ = write_queued(wr, &m) => {}
        _ = m.cut.notified() => {}
    }
    hub.leave(&m);
}

async fn echo_conn(mut s: TcpStream) {
    let (mut rd, mut wr) = s.split();
    let mut buf = vec![0u8; READ_BUF];
    // Lines come back verbatim, so a chunk can be written back as read.
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if wr.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let echo = args.iter().any(|a| a == "--echo");
    let addr = match args.iter().find(|a| !a.starts_with("--")) {
        Some(a) => a.clone(),
        None => {
            eprintln!("usage: chat-peer-tokio [--echo] ADDR");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = TcpListener::bind(&addr).await.unwrap_or_else(|e| {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        });
        eprintln!("listening on {} ({} mode)", listener.local_addr().unwrap(), if echo { "echo" } else { "chat" });
        let hub = Rc::new(Hub::default());
        loop {
            let s = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    // out of descriptors and the like: keep accepting
                    eprintln!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = s.set_nodelay(true);
            if echo {
                tokio::task::spawn_local(echo_conn(s));
            } else {
                tokio::task::spawn_local(chat_conn(hub.clone(), s));
            }
        }
    });
}
