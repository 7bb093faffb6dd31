//! The control-socket client behind `duet call|answer|reject|hangup`.
//! `duet call` waits in the client while the node places the call, and
//! returns when it is connected (exit 0) or has failed (exit 1, with the
//! reason); the call itself lives in the node, so interrupting the client
//! does not end it.

use super::client::{json_line, ClientError, ControlClient};
use super::protocol::Request;
use super::render;
use std::path::Path;

/// How a call attempt ended, for the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    Connected,
    /// The call did not happen; `reason` is the word (`declined`, `busy`, …).
    Failed {
        reason: String,
    },
}

pub async fn call(path: &Path, target: &str, json: bool) -> Result<CallOutcome, ClientError> {
    let mut client = ControlClient::connect(path).await?;
    let request = Request::Call {
        target: target.to_string(),
    };
    let reply = client.request_any(&request).await?;
    if json {
        println!("{}", json_line(&reply)?);
    }
    match (reply.ok, reply.call, reply.reason) {
        (true, Some(call), _) => {
            if !json {
                println!("connected to {}", render::who(&call));
            }
            Ok(CallOutcome::Connected)
        }
        (true, None, _) => Err(ClientError::Protocol("call reply without a call".into())),
        (false, _, Some(reason)) => {
            if !json {
                let why = reply.error.unwrap_or_else(|| reason.clone());
                eprintln!("duet: call failed: {why}");
            }
            Ok(CallOutcome::Failed { reason })
        }
        (false, _, None) => Err(ClientError::Node(reply.error.unwrap_or_default())),
    }
}

/// `answer`, `reject` or `hangup`: one request, `ok` or an error.
pub async fn simple(path: &Path, request: Request, done: &str) -> Result<(), ClientError> {
    let mut client = ControlClient::connect(path).await?;
    client.request(&request).await?;
    println!("{done}");
    Ok(())
}
