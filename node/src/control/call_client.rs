//! The control-socket client behind `duet call|answer|reject|hangup`.
//! `duet call` waits in the client while the node places the call, and
//! returns when it is connected or has failed, with one exit code per
//! outcome ([`CallExit`]); the call itself lives in the node, so
//! interrupting the client does not end it. For scripts it can wait for the
//! peer to appear (`--wait-for-peer`), give up after a while (`--timeout`)
//! and hold the call for a time, then hang up (`--for`).

use super::client::{json_line, ClientError, ControlClient};
pub use super::exit_code::CallExit;
use super::protocol::{Event, Reply, Request};
use super::render;
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

/// How often `--wait-for-peer` asks again.
const RETRY: Duration = Duration::from_millis(250);

/// What `duet call` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CallPlan {
    pub target: String,
    pub json: bool,
    pub hold: Option<Duration>,
    pub wait_for_peer: Option<Duration>,
    pub timeout: Option<Duration>,
}

pub async fn call(path: &Path, plan: &CallPlan) -> Result<CallExit, ClientError> {
    let placed = match plan.timeout {
        Some(t) => match tokio::time::timeout(t, place(path, plan)).await {
            Ok(r) => r?,
            Err(_) => {
                // The node may be ringing the peer on our behalf: stop it.
                let _ = hangup(path).await;
                if !plan.json {
                    eprintln!("duet: call failed: not connected within {t:?} (timeout)");
                }
                return Ok(CallExit::NoAnswer);
            }
        },
        None => place(path, plan).await?,
    };
    let (call_id, exit) = match placed {
        Ok(id) => (id, CallExit::Completed),
        Err(exit) => return Ok(exit),
    };
    match plan.hold {
        Some(hold) => hold_then_hang_up(path, &call_id, hold, plan.json).await,
        None => Ok(exit),
    }
}

/// Places the call (retrying while the target is not listed, with
/// `--wait-for-peer`); the call's id once connected, else the exit.
async fn place(path: &Path, plan: &CallPlan) -> Result<Result<String, CallExit>, ClientError> {
    let give_up = plan.wait_for_peer.map(|w| Instant::now() + w);
    let request = Request::Call {
        target: plan.target.clone(),
    };
    let reply = loop {
        let mut client = ControlClient::connect(path).await?;
        let reply = client.request_any(&request).await?;
        let not_listed = reply.reason.as_deref() == Some("not-found");
        match give_up {
            Some(at) if not_listed && Instant::now() + RETRY < at => {
                tokio::time::sleep(RETRY).await
            }
            _ => break reply,
        }
    };
    if plan.json {
        println!("{}", json_line(&reply)?);
    }
    outcome(reply, plan.json)
}

fn outcome(reply: Reply, json: bool) -> Result<Result<String, CallExit>, ClientError> {
    match (reply.ok, reply.call, reply.reason) {
        (true, Some(call), _) => {
            if !json {
                println!("connected to {}", render::who(&call));
            }
            Ok(Ok(call.id))
        }
        (true, None, _) => Err(ClientError::Protocol("call reply without a call".into())),
        (false, _, Some(reason)) if reason != "self" => {
            if !json {
                let why = reply.error.unwrap_or_else(|| reason.clone());
                eprintln!("duet: call failed: {why}");
            }
            Ok(Err(CallExit::of_reason(&reason)))
        }
        (false, _, _) => Err(ClientError::Node(reply.error.unwrap_or_default())),
    }
}

/// `--for`: keeps the call `hold` long, then hangs up. Ends early (exit 9)
/// if the call ends first.
async fn hold_then_hang_up(
    path: &Path,
    call_id: &str,
    hold: Duration,
    json: bool,
) -> Result<CallExit, ClientError> {
    let mut events = ControlClient::connect(path).await?;
    events.request(&Request::Subscribe).await?;
    // The call may have ended before the subscription was live.
    let mut status = ControlClient::connect(path).await?;
    let still_on = status
        .request(&Request::Status)
        .await?
        .node
        .and_then(|n| n.call)
        .is_some_and(|c| c.id == call_id);
    if !still_on {
        eprintln!("duet: the call ended early");
        return Ok(CallExit::EndedEarly);
    }
    let ended = async {
        while let Some(line) = events.next_line().await? {
            if let Ok(Event::CallEnded { call, reason, .. }) = serde_json::from_slice(&line) {
                if call.id == call_id {
                    return Ok::<_, ClientError>(Some(reason));
                }
            }
        }
        Ok(None)
    };
    tokio::select! {
        r = ended => {
            let why = r?.map_or_else(|| "the node stopped".into(), |code| code.to_string());
            if json {
                println!("{}", serde_json::json!({"ok": false, "reason": why, "ended_early": true}));
            } else {
                eprintln!("duet: the call ended early ({why})");
            }
            Ok(CallExit::EndedEarly)
        }
        _ = tokio::time::sleep(hold) => {
            hangup(path).await?;
            if !json {
                println!("hung up after {:.1} s", hold.as_secs_f64());
            }
            Ok(CallExit::Completed)
        }
    }
}

async fn hangup(path: &Path) -> Result<(), ClientError> {
    ControlClient::connect(path)
        .await?
        .request(&Request::Hangup)
        .await
        .map(|_| ())
}

/// `answer`, `reject` or `hangup`: one request, `ok` or an error.
pub async fn simple(path: &Path, request: Request, done: &str) -> Result<(), ClientError> {
    let mut client = ControlClient::connect(path).await?;
    client.request(&request).await?;
    println!("{done}");
    Ok(())
}
