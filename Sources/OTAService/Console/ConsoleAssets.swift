// The console's stylesheet and its one script, shipped in the binary: no CDN, no build step. The script only
// follows a rollout's server-sent events and rewrites the page's figures with textContent (never HTML).

enum ConsoleAssets {
    static let stylesheet = """
        :root { --ink: #1d2430; --muted: #5b6676; --line: #d9dee6; --accent: #1f6feb; --bad: #b42318; --good: #067647;
          font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); }
        body { margin: 0; background: #f6f8fa; }
        nav { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1rem;
          background: #0d1b2a; color: #fff; }
        nav a { color: #dbe7ff; text-decoration: none; padding: .2rem .1rem; }
        nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
        nav a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #ffbf47; }
        nav .brand { font-weight: 700; color: #fff; }
        nav ul { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; margin: 0; padding: 0; }
        nav .who { margin-left: auto; display: flex; gap: .6rem; align-items: center; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.5rem; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; }
        form.stack { display: grid; gap: .8rem; max-width: 40rem; background: #fff; padding: 1rem; border: 1px solid var(--line); }
        form.stack label { display: grid; gap: .25rem; font-weight: 600; }
        form.stack .hint { font-weight: 400; color: var(--muted); font-size: .9rem; }
        input, select, textarea, button { font: inherit; padding: .4rem .5rem; }
        button, .button { background: var(--accent); color: #fff; border: 0; border-radius: 4px; cursor: pointer;
          text-decoration: none; display: inline-block; padding: .45rem .9rem; }
        button.danger { background: var(--bad); }
        nav button { background: transparent; border: 1px solid #6c7a8d; }
        .counts { display: flex; flex-wrap: wrap; gap: .6rem; margin: 1rem 0; padding: 0; list-style: none; }
        .counts li { background: #fff; border: 1px solid var(--line); padding: .5rem .8rem; min-width: 7rem; }
        .counts strong { display: block; font-size: 1.4rem; }
        .bad { color: var(--bad); } .good { color: var(--good); } .muted { color: var(--muted); }
        .notice { background: #fff; border-left: 4px solid var(--accent); padding: .6rem 1rem; }
        .error { border-left-color: var(--bad); }
        progress { width: 8rem; }
        .pager { display: flex; gap: 1rem; margin: 1rem 0; }
        @media (max-width: 40rem) { nav .who { margin-left: 0; } th, td { padding: .35rem; } }
        """

    static let script = """
        "use strict";
        (function () {
          var live = document.getElementById("live");
          if (!live || !window.EventSource) { return; }
          var state = document.getElementById("live-state");
          var source = new EventSource(live.getAttribute("data-events"));
          source.onopen = function () { if (state) { state.textContent = "live"; } };
          source.onerror = function () { if (state) { state.textContent = "reconnecting…"; } };
          source.onmessage = function (event) {
            var data = JSON.parse(event.data);
            document.querySelectorAll("[data-count]").forEach(function (cell) {
              var count = data.counts[cell.getAttribute("data-count")];
              cell.textContent = String(count || 0);
            });
            var status = document.getElementById("job-status");
            if (status) { status.textContent = data.status + (data.reason ? " (" + data.reason + ")" : ""); }
            var cancel = document.getElementById("cancel");
            if (cancel) { cancel.hidden = data.status !== "IN_PROGRESS"; }
            var pending = document.getElementById("pending");
            if (pending) { pending.textContent = String(data.pending); }
            var body = document.querySelector("#executions tbody");
            if (!body) { return; }
            while (body.firstChild) { body.removeChild(body.firstChild); }
            data.executions.forEach(function (execution) {
              var row = document.createElement("tr");
              row.setAttribute("data-thing", execution.thing);
              [execution.thing, execution.status].forEach(function (text) {
                var cell = document.createElement("td");
                cell.textContent = text;
                row.appendChild(cell);
              });
              var progressCell = document.createElement("td");
              if (execution.progress !== null && execution.progress !== undefined) {
                var bar = document.createElement("progress");
                bar.max = 100;
                bar.value = execution.progress;
                bar.textContent = execution.progress + "%";
                progressCell.appendChild(bar);
              }
              row.appendChild(progressCell);
              var details = document.createElement("td");
              details.textContent = execution.details || "";
              row.appendChild(details);
              body.appendChild(row);
            });
          };
        })();
        """
}
