//! The event loop's side of web users bridged by brokers
//! (`/duet/web-call/1`, see [`WebPeers`]).

use super::*;
use crate::net::web_call_proto;

impl EventLoop {
    /// Every presence heartbeat: tells connected brokers this node's name
    /// and status (for browsers), and re-announces bridged web users.
    pub(super) async fn web_heartbeat(&mut self) {
        let (name, status) = (self.config.name.clone(), self.presence.status());
        for view in self.brokers.views() {
            let Some(peer) = view.peer_id.and_then(|p| p.parse::<PeerId>().ok()) else {
                continue;
            };
            if self.swarm.is_connected(&peer) {
                WebPeers::hello(
                    &mut self.swarm.behaviour_mut().web_call,
                    &peer,
                    &name,
                    status,
                );
            }
        }
        for event in self.web.heartbeat() {
            self.emit(event).await;
        }
    }

    pub(super) async fn on_web_call(&mut self, event: web_call_proto::Event) {
        let brokers = &self.brokers;
        let b = &mut self.swarm.behaviour_mut().web_call;
        let events = self.web.on_event(b, event, |p| brokers.is_broker(p));
        for event in events {
            self.emit(event).await;
        }
    }
}
