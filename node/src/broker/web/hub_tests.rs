//! The hub's routing rules, driven without sockets: links are plain
//! channels, so what each browser would receive is read off them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

fn join(hub: &mut Hub, name: &str) -> (String, mpsc::Receiver<Out>) {
    let (out, rx) = mpsc::channel(OUT_QUEUE);
    let link = Link {
        out,
        cancel: CancellationToken::new(),
    };
    let (reply, mut answer) = oneshot::channel();
    hub.handle(HubIn::Join {
        name: DisplayName::new(name).unwrap(),
        link,
        reply,
    });
    (answer.try_recv().unwrap().unwrap(), rx)
}

fn invite(hub: &mut Hub, from: &str, to: &str, call_id: &str) {
    hub.handle(HubIn::Msg {
        id: from.into(),
        msg: ClientMsg::Call {
            to: to.into(),
            signal: CallSignal::Invite {
                call_id: call_id.into(),
                caller_name: "ignored".into(),
                sdp: "v=0".into(),
            },
        },
    });
}

/// Every text frame queued for one browser so far.
fn frames(rx: &mut mpsc::Receiver<Out>) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    while let Ok(Out::Text(t) | Out::Last(t)) = rx.try_recv() {
        all.push(serde_json::from_str(&t).unwrap());
    }
    all
}

fn peer_gone_calls(rx: &mut mpsc::Receiver<Out>) -> Vec<String> {
    frames(rx)
        .into_iter()
        .filter(|f| f["type"] == "peer-gone")
        .map(|f| f["call_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_reused_call_id_does_not_take_over_the_first_call() {
    let mut hub = Hub::new(None, None);
    let (alice, _a) = join(&mut hub, "alice");
    let (bob, mut b) = join(&mut hub, "bob");
    let (eve, _e) = join(&mut hub, "eve");
    invite(&mut hub, &alice, &bob, "c1");
    invite(&mut hub, &eve, &bob, "c1");
    frames(&mut b);

    hub.handle(HubIn::Left { id: eve });
    assert!(
        peer_gone_calls(&mut b).is_empty(),
        "eve's leaving ended alice's call"
    );

    hub.handle(HubIn::Left { id: alice });
    assert_eq!(peer_gone_calls(&mut b), vec!["c1".to_string()]);
}

#[test]
fn the_hub_names_the_sender_itself() {
    let mut hub = Hub::new(None, None);
    let (alice, _a) = join(&mut hub, "alice");
    let (bob, mut b) = join(&mut hub, "bob");
    frames(&mut b);
    invite(&mut hub, &alice, &bob, "c2");
    let got = frames(&mut b);
    let call = got
        .iter()
        .find(|f| f["type"] == "invite")
        .expect("the invite");
    assert_eq!(call["from"], alice.as_str());
    assert_eq!(call["from_name"], "alice");
}
