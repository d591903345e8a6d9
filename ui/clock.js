// The elapsed time of a running job, counted in the page. The server sends a status
// only when something happens ("Running … · 12.3 s"); between updates this keeps
// the clock going, so a hundred people's two-minute jobs are not a hundred page
// updates a second.
() => {
  const RUNNING = /… · (\d+(?:\.\d+)?) s$/;
  const clocks = new WeakMap(); // text node -> {text, seconds, since}
  setInterval(() => {
    for (const box of document.querySelectorAll(".job-status")) {
      const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      for (let node = walk.nextNode(); node; node = walk.nextNode()) {
        const match = node.nodeValue.match(RUNNING);
        if (!match) continue;
        let clock = clocks.get(node);
        if (!clock || clock.text !== node.nodeValue) {
          // A fresh update from the server: count on from what it says.
          clock = { seconds: parseFloat(match[1]), since: performance.now() };
        }
        const seconds = clock.seconds + (performance.now() - clock.since) / 1000;
        clock.text = node.nodeValue.replace(RUNNING, `… · ${seconds.toFixed(1)} s`);
        node.nodeValue = clock.text;
        clocks.set(node, clock);
      }
    }
  }, 250);
}
