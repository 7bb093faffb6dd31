//! A rogue libp2p peer for tests: a real Swarm in the test process that
//! speaks `/duet/call/1` with raw bytes, so it can send what no Duet node
//! would.
#![allow(dead_code)]

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm};
use std::io;
use std::time::Duration;

pub const DEADLINE: Duration = Duration::from_secs(20);

/// Sends any bytes as a request; reads the reply as bytes.
#[derive(Clone, Default)]
pub struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        io.take(1 << 20).read_to_end(&mut buf).await?;
        Ok(buf)
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        p: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        // A stream closed without a reply is a refusal.
        let buf = self.read_request(p, io).await?;
        if buf.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(buf)
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()> {
        io.write_all(&req).await?;
        io.close().await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        p: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()> {
        self.write_request(p, io, res).await
    }
}

/// Ping keeps the node from closing the connection as dead.
#[derive(libp2p::swarm::NetworkBehaviour)]
pub struct RogueBehaviour {
    pub call: request_response::Behaviour<RawCodec>,
    pub ping: libp2p::ping::Behaviour,
}

pub type Rogue = Swarm<RogueBehaviour>;

pub fn rogue() -> Rogue {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| RogueBehaviour {
            call: request_response::Behaviour::with_codec(
                RawCodec,
                [(StreamProtocol::new("/duet/call/1"), ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(10)),
            ),
            ping: libp2p::ping::Behaviour::default(),
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

/// Sends `bytes` and returns the node's reply, or None when it refused.
pub async fn send(swarm: &mut Rogue, node: PeerId, bytes: Vec<u8>) -> Option<Vec<u8>> {
    let id: OutboundRequestId = swarm.behaviour_mut().call.send_request(&node, bytes);
    let wait = async {
        loop {
            let SwarmEvent::Behaviour(RogueBehaviourEvent::Call(event)) =
                swarm.select_next_some().await
            else {
                continue;
            };
            match event {
                request_response::Event::Message {
                    message:
                        request_response::Message::Response {
                            request_id,
                            response,
                        },
                    ..
                } if request_id == id => return Some(response),
                request_response::Event::OutboundFailure { request_id, .. } if request_id == id => {
                    return None
                }
                // The node's own messages (ringing, …) get their ack.
                request_response::Event::Message {
                    message: request_response::Message::Request { channel, .. },
                    ..
                } => ack(swarm, channel),
                _ => {}
            }
        }
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .expect("the node neither answered nor refused")
}

/// Acknowledges a message the node sent us.
fn ack(swarm: &mut Rogue, channel: request_response::ResponseChannel<Vec<u8>>) {
    let ack = br#"{"ack":"ok"}"#.to_vec();
    let _ = swarm.behaviour_mut().call.send_response(channel, ack);
}

/// A node to attack in `host`: no mDNS, listening on loopback TCP only.
pub fn target_node(host: &duet_tests::Host) -> duet_tests::DuetNode {
    let opts = duet_tests::NodeOptions::named("target")
        .arg("--no-mdns")
        .arg("--listen")
        .arg("/ip4/127.0.0.1/tcp/0");
    duet_tests::DuetNode::start_with(host, opts).expect("the target node starts")
}

/// A node's PeerId and its first TCP listen address.
pub fn tcp_addr(node: &duet_tests::DuetNode) -> (PeerId, Multiaddr) {
    let status = node.status().expect("status");
    let addr = status
        .listen_addrs
        .iter()
        .find(|a| a.contains("/tcp/"))
        .expect("a TCP listen address")
        .parse()
        .expect("a multiaddr");
    (status.peer_id.parse().expect("a PeerId"), addr)
}

/// A single-threaded runtime for a rogue.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Dials `addr` (the node `node`) and waits for the connection.
pub async fn connect(swarm: &mut Rogue, addr: Multiaddr, node: PeerId) {
    swarm
        .dial(addr.with_p2p(node).expect("a plain address"))
        .expect("dial");
    let connected = async {
        loop {
            if let SwarmEvent::ConnectionEstablished { .. } = swarm.select_next_some().await {
                return;
            }
        }
    };
    tokio::time::timeout(DEADLINE, connected)
        .await
        .expect("the rogue connects");
}

/// A well-formed session description (the node checks shape, not media).
pub const SDP: &str = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

/// What a flood got from the node.
#[derive(Debug, Default, Clone, Copy)]
pub struct FloodStats {
    pub sent: u64,
    /// Acknowledged (taken) by the node.
    pub acked: u64,
    /// Refused by the node (rate limited).
    pub refused: u64,
    /// No answer at all (stream reset, timeout).
    pub failed: u64,
}

/// Sends `make(n)` to `node` every `every` until `stop` is set, acking
/// whatever the node sends back (its busy rejects); `sent` counts live.
pub async fn flood(
    swarm: &mut Rogue,
    node: PeerId,
    every: Duration,
    make: impl Fn(u64) -> Vec<u8>,
    stop: &std::sync::atomic::AtomicBool,
    sent: &std::sync::atomic::AtomicU64,
) -> FloodStats {
    use std::sync::atomic::Ordering::Relaxed;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut s = FloodStats::default();
    let mut check = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                swarm.behaviour_mut().call.send_request(&node, make(s.sent));
                s.sent += 1;
                sent.store(s.sent, Relaxed);
            }
            _ = check.tick() => if stop.load(Relaxed) {
                return s;
            },
            event = swarm.select_next_some() => {
                let SwarmEvent::Behaviour(RogueBehaviourEvent::Call(event)) = event else {
                    continue;
                };
                match event {
                    request_response::Event::Message {
                        message: request_response::Message::Response { response, .. },
                        ..
                    } => {
                        if String::from_utf8_lossy(&response).contains("refused") {
                            s.refused += 1;
                        } else {
                            s.acked += 1;
                        }
                    }
                    request_response::Event::OutboundFailure { .. } => s.failed += 1,
                    request_response::Event::Message {
                        message: request_response::Message::Request { channel, .. },
                        ..
                    } => ack(swarm, channel),
                    _ => {}
                }
            }
        }
    }
}
