//! The interactive console of `duet up` when it runs in a terminal: it
//! shows peers coming and going and incoming calls, and reads simple typed
//! commands. It is an in-process control client: the same requests and
//! events as the control socket, without the socket.

use crate::call::EndCode;
use crate::control::protocol::{ControlCall, Event, Reply, Request};
use crate::control::{client::peers_table, render};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{broadcast, mpsc, oneshot};

const HELP: &str = "commands: peers | status | call NAME | answer (y) | reject (n) | hangup | \
                    mute audio|video | unmute audio|video | quit | help";

/// Runs until stdin closes or the user types `quit`; then `quit` fires.
pub async fn run(
    requests: mpsc::Sender<ControlCall>,
    mut events: broadcast::Receiver<Event>,
    quit: mpsc::Sender<()>,
) {
    println!("duet is up. {HELP}");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if !command(line.trim(), &requests).await {
                        break;
                    }
                }
                Ok(None) | Err(_) => break,
            },
            ev = events.recv() => match ev {
                Ok(ev) => show(&ev),
                Err(broadcast::error::RecvError::Lagged(n)) => println!("(missed {n} events)"),
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
    let _ = quit.send(()).await;
}

fn show(ev: &Event) {
    match ev {
        Event::IncomingCall { call } => {
            println!("{} is calling — answer? [y/N]", render::who(call));
        }
        ev => {
            if let Some(line) = render::event_line(ev) {
                println!("{line}");
            }
        }
    }
}

async fn ask(requests: &mpsc::Sender<ControlCall>, request: Request) -> Reply {
    let (reply, rx) = oneshot::channel();
    if requests.send(ControlCall { request, reply }).await.is_err() {
        return Reply::error("the node is stopping");
    }
    rx.await
        .unwrap_or_else(|_| Reply::error("the node is stopping"))
}

fn report(reply: &Reply, done: &str) {
    match &reply.error {
        Some(e) if !reply.ok => println!("error: {e}"),
        _ => println!("{done}"),
    }
}

/// Carries out one typed command; false means quit.
async fn command(line: &str, requests: &mpsc::Sender<ControlCall>) -> bool {
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    match word {
        "" => {}
        "quit" | "exit" => return false,
        "help" | "?" => println!("{HELP}"),
        "peers" => {
            let reply = ask(requests, Request::Peers).await;
            match reply.peers {
                Some(p) if p.is_empty() => println!("no peers seen yet"),
                Some(p) => print!("{}", peers_table(&p)),
                None => report(&reply, ""),
            }
        }
        "status" => {
            let reply = ask(requests, Request::Status).await;
            match reply.node {
                Some(n) => {
                    let call = n.call.as_ref().map(render::call_summary);
                    println!("{} ({}) {}", n.name, n.peer_id, n.status);
                    println!("call: {}", call.unwrap_or_else(|| "none".into()));
                }
                None => report(&reply, ""),
            }
        }
        "call" if rest.trim().is_empty() => println!("call whom? e.g. `call bob`"),
        "call" => {
            let (requests, target) = (requests.clone(), rest.trim().to_string());
            println!("calling {target}…");
            // The console stays usable (e.g. `hangup`) while it rings.
            tokio::spawn(async move {
                let reply = ask(&requests, Request::Call { target }).await;
                // A call hung up here needs no error; the `ended` line says it.
                let code = reply.reason.as_deref().and_then(|r| r.parse().ok());
                if !reply.ok && code != Some(EndCode::HungUp) {
                    report(&reply, "");
                }
            });
        }
        "answer" | "y" | "yes" => report(&ask(requests, Request::Answer).await, "answered"),
        "reject" | "n" | "no" => report(&ask(requests, Request::Reject).await, "rejected"),
        "hangup" | "bye" => report(&ask(requests, Request::Hangup).await, "hung up"),
        "mute" | "unmute" => match rest.trim().parse::<duet_gst::MediaKind>() {
            Ok(kind) => {
                let request = if word == "mute" {
                    Request::Mute { kind }
                } else {
                    Request::Unmute { kind }
                };
                report(&ask(requests, request).await, &format!("{word}d {kind}"));
            }
            Err(_) => println!("{word} what? `{word} audio` or `{word} video`"),
        },
        other => println!("unknown command `{other}`; {HELP}"),
    }
    true
}
