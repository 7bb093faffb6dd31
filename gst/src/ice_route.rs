//! Which way a call's media goes: straight between the two machines or
//! through a TURN relay, read from webrtcbin's selected ICE candidate pair.
//!
//! In `get-stats` (GStreamer 1.22) a `transport` entry names its
//! `selected-candidate-pair-id`; that `candidate-pair` entry names a
//! `local-candidate-id` and a `remote-candidate-id`; each candidate entry
//! (matched by its `id` field) has a `candidate-type`: `host`, `srflx`,
//! `prflx` or `relay`. 1.22 files the local candidate under a structure
//! named `remote-candidate` and the other way round, so only ids are
//! trusted here, never the structure names of the candidates.

use gstreamer as gst;
use serde::Serialize;
use std::collections::HashMap;

/// The route of the media of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// Neither end of the selected pair is a relayed candidate.
    Direct,
    /// At least one end of the selected pair is relayed (TURN).
    Relay,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Direct => "direct",
            Route::Relay => "relay",
        }
    }
}

fn string(s: &gst::StructureRef, field: &str) -> Option<String> {
    s.get::<String>(field).ok()
}

/// The route of the selected candidate pair in a `get-stats` reply; None
/// while ICE has selected none (or the reply does not say).
pub fn selected_route(reply: &gst::StructureRef) -> Option<Route> {
    let mut selected = Vec::new();
    let mut pairs: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    let mut types: HashMap<String, String> = HashMap::new();
    for (key, value) in reply.iter() {
        let Ok(s) = value.get::<gst::Structure>() else {
            continue;
        };
        let id = string(&s, "id").unwrap_or_else(|| key.to_string());
        match s.name().as_str() {
            "transport" => selected.extend(string(&s, "selected-candidate-pair-id")),
            "candidate-pair" => {
                let ends = (
                    string(&s, "local-candidate-id"),
                    string(&s, "remote-candidate-id"),
                );
                pairs.insert(id, ends);
            }
            "local-candidate" | "remote-candidate" => {
                if let Some(t) = string(&s, "candidate-type") {
                    types.insert(id, t);
                }
            }
            _ => {}
        }
    }
    // Without a transport naming it, a lone pair is the selected one.
    if selected.is_empty() && pairs.len() == 1 {
        selected.extend(pairs.keys().cloned());
    }
    let mut route = None;
    for pair in selected {
        let Some((local, remote)) = pairs.get(&pair) else {
            continue;
        };
        let kinds: Vec<&str> = [local, remote]
            .into_iter()
            .flatten()
            .filter_map(|id| types.get(id).map(String::as_str))
            .collect();
        if kinds.contains(&"relay") {
            return Some(Route::Relay);
        }
        if kinds.len() == 2 {
            route = Some(Route::Direct);
        }
    }
    route
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn candidate(name: &str, id: &str, kind: &str) -> gst::Structure {
        gst::Structure::builder(name)
            .field("id", id)
            .field("candidate-type", kind)
            .build()
    }

    /// A reply shaped like webrtcbin 1.22's (candidate structure names swapped).
    fn reply(local: &str, remote: &str, with_transport: bool) -> gst::Structure {
        let pair = gst::Structure::builder("candidate-pair")
            .field("id", "pair1")
            .field("local-candidate-id", "ice-candidate-local_1")
            .field("remote-candidate-id", "ice-candidate-remote_1")
            .build();
        let mut b = gst::Structure::builder("application/x-webrtc-stats")
            .field(
                "ice-candidate-local_1",
                candidate("remote-candidate", "ice-candidate-local_1", local),
            )
            .field(
                "ice-candidate-remote_1",
                candidate("local-candidate", "ice-candidate-remote_1", remote),
            )
            .field("pair1", pair);
        if with_transport {
            let t = gst::Structure::builder("transport")
                .field("selected-candidate-pair-id", "pair1")
                .build();
            b = b.field("transport1", t);
        }
        b.build()
    }

    #[test]
    fn a_relay_at_either_end_makes_the_route_relay() {
        gst::init().unwrap();
        assert_eq!(
            selected_route(&reply("host", "host", true)),
            Some(Route::Direct)
        );
        assert_eq!(
            selected_route(&reply("srflx", "prflx", false)),
            Some(Route::Direct)
        );
        assert_eq!(
            selected_route(&reply("relay", "host", true)),
            Some(Route::Relay)
        );
        assert_eq!(
            selected_route(&reply("host", "relay", true)),
            Some(Route::Relay)
        );
    }

    #[test]
    fn no_selected_pair_means_no_route() {
        gst::init().unwrap();
        let empty = gst::Structure::new_empty("application/x-webrtc-stats");
        assert_eq!(selected_route(&empty), None);
        // A pair whose candidates are not (yet) reported.
        let pair = gst::Structure::builder("candidate-pair")
            .field("id", "p")
            .field("local-candidate-id", "a")
            .field("remote-candidate-id", "b")
            .build();
        let r = gst::Structure::builder("application/x-webrtc-stats")
            .field("p", pair)
            .build();
        assert_eq!(selected_route(&r), None);
    }
}
