window.h = {
  ice: [], pc: null,
  async start() {
    const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
    const pc = new RTCPeerConnection({bundlePolicy: 'max-bundle'});
    this.pc = pc;
    for (const t of s.getTracks()) pc.addTrack(t, s);
    const v = document.createElement('video');
    v.id = 'remote'; v.autoplay = true; v.muted = true; document.body.append(v);
    const remote = new MediaStream();
    pc.ontrack = (e) => { remote.addTrack(e.track); v.srcObject = remote; };
    this.firstFrameAt = null;
    v.requestVideoFrameCallback(() => { this.firstFrameAt = Date.now(); });
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) this.ice.push([e.candidate.sdpMLineIndex || 0, e.candidate.candidate]);
    };
  },
  async offer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription.sdp;
  },
  async answer(sdp) {
    await this.pc.setRemoteDescription({type: 'offer', sdp});
    await this.flush();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.pc.localDescription.sdp;
  },
  async remote(type, sdp) { await this.pc.setRemoteDescription({type, sdp}); await this.flush(); },
  // A candidate gathered right after our description can reach the test
  // first: it waits for the remote description, as a signalling server's
  // client would make it.
  pending: [],
  async add(mline, candidate) {
    if (!this.pc.remoteDescription) { this.pending.push([mline, candidate]); return; }
    await this.pc.addIceCandidate({candidate, sdpMLineIndex: mline});
  },
  async flush() {
    for (const [m, c] of this.pending.splice(0)) await this.pc.addIceCandidate({candidate: c, sdpMLineIndex: m});
  },
  frames() { return document.getElementById('remote').getVideoPlaybackQuality().totalVideoFrames; },
};
