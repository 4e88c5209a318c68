// Grader's own script. Every page works without it; it only saves reloads:
// live submission progress, live dashboard rows, regrade and import progress, the
// countdown to the next allowed submission (times.js shows times in the viewer's zone), and
// the code editor (editor.js, loaded before this file where a page has one) in place of the
// solution's textarea. It inserts only HTML our server rendered (and escaped) for the purpose,
// and text through textContent.
"use strict";

(function () {
  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  function getHTML(url) {
    return fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    });
  }

  // Polls until stop() returns true; backs off after errors so a lost server is not hammered.
  function poll(intervalMs, tick) {
    var delay = intervalMs;
    function run() {
      tick().then(function (finished) {
        delay = intervalMs;
        if (!finished) { window.setTimeout(run, delay); }
      }).catch(function () {
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(run, delay);
      });
    }
    window.setTimeout(run, intervalMs);
  }

  // Submission page: queued (position) -> running -> graded, then the report appears.
  // Updates are pushed by Server-Sent Events; without EventSource, or when the stream
  // fails, the page polls the status instead (and without script a meta refresh reloads it).
  function watchSubmission(box) {
    var statusUrl = box.getAttribute("data-status-url");
    var reportUrl = box.getAttribute("data-report-url");
    var eventsUrl = box.getAttribute("data-events-url");
    var message = box.querySelector("[data-progress-message]");
    var steps = box.querySelectorAll("[data-step]");
    var order = ["queued", "running", "graded"];
    var shown = false;

    function showStep(status) {
      var reached = order.indexOf(status);
      steps.forEach(function (step) {
        var index = order.indexOf(step.getAttribute("data-step"));
        step.classList.toggle("done", index < reached || status === "graded");
        step.classList.toggle("current", index === reached && status !== "graded");
        if (index === reached) { step.setAttribute("aria-current", "step"); } else { step.removeAttribute("aria-current"); }
      });
    }

    function showProgress(data) {
      showStep(data.status);
      if (message) { message.textContent = data.message; }
    }

    // Insert the result our server rendered for this page, once, and move focus to it.
    function showResult(html) {
      if (shown) { return; }
      shown = true;
      var target = document.getElementById("submission-result");
      target.innerHTML = html;
      box.hidden = true;
      var heading = target.querySelector("h2");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      target.querySelectorAll("[data-fix-checks-url]").forEach(watchFixChecks);
      target.querySelectorAll("[data-marks-lines]").forEach(function (link) {
        var editor = editors[link.getAttribute("href").slice(1)];
        if (editor) { editor.setMarkedLines(lineNumbers(link.getAttribute("data-marks-lines"))); }
      });
    }

    function pollStatus() {
      poll(1000, function () {
        if (shown) { return Promise.resolve(true); }
        return getJSON(statusUrl).then(function (data) {
          showProgress(data);
          if (data.status !== "graded") { return false; }
          return getHTML(reportUrl).then(function (html) { showResult(html); return true; });
        });
      });
    }

    if (!eventsUrl || typeof window.EventSource !== "function") { pollStatus(); return; }
    var source = new window.EventSource(eventsUrl);
    var opened = false;
    source.addEventListener("open", function () { opened = true; });
    source.addEventListener("progress", function (event) { showProgress(JSON.parse(event.data)); });
    function graded(event) {
      source.close();
      var data = JSON.parse(event.data);
      showProgress(data);
      showResult(data.html);
    }
    source.addEventListener("graded", graded);
    source.addEventListener("fixes-checked", graded);
    source.addEventListener("signed-out", signedOut(source));
    source.addEventListener("error", function () {
      // A stream that ends at its time limit reconnects by itself; one that never
      // opened, or that the browser gave up on, is replaced by polling.
      if (!opened || source.readyState === window.EventSource.CLOSED) {
        source.close();
        if (!shown) { pollStatus(); }
      }
      opened = false;
    });
  }

  // The session ended while the page followed updates (signed out, password changed): say so and
  // open the page again, which asks to sign in.
  function signedOut(source) {
    return function (event) {
      source.close();
      setStatus(JSON.parse(event.data).message);
      window.setTimeout(function () { window.location.reload(); }, 1500);
    };
  }

  // Checked fixes arrive after the result: each mistake's card is replaced by the one the server
  // rendered once the grader has tried the fix on the learner's code; nothing else on the page
  // moves (open cases stay open), and the live line says it happened.
  function watchFixChecks(note) {
    var url = note.getAttribute("data-fix-checks-url");
    if (!url || typeof window.EventSource !== "function") { return; }
    var source = new window.EventSource(url);
    source.addEventListener("fixes-checked", function (event) {
      source.close();
      var fresh = document.createElement("div");
      fresh.innerHTML = JSON.parse(event.data).html;
      var passed = fresh.querySelectorAll(".fix-diff").length;
      fresh.querySelectorAll("article.diagnosis[id]").forEach(function (card) {
        var old = document.getElementById(card.id);
        if (old) { old.replaceWith(card); }
      });
      note.textContent = passed
        ? "The grader tried the fix on your code and it works: the change is shown below."
        : "The grader tried the fix on your code: see the note on each mistake below.";
    });
    source.addEventListener("signed-out", signedOut(source));
    source.addEventListener("error", function () {
      if (source.readyState === window.EventSource.CLOSED) { source.close(); }
    });
  }

  function setStatus(text) {
    var status = document.querySelector("[data-live-status]");
    if (status) { status.textContent = text; }
  }

  function checkedAt() {
    return "last checked " + window.graderTimes.clock(new Date()) + ".";
  }

  // Follows a dashboard's changes after ``cursor``: pushed by Server-Sent Events, or polled
  // without them. ``apply(data)`` returns a promise of true once nothing more needs following.
  function followChanges(changesUrl, eventsUrl, cursor, apply) {
    var stopped = false;

    function withCursor(url) {
      return url + (url.indexOf("?") === -1 ? "?" : "&") + "since=" + encodeURIComponent(cursor);
    }

    function take(data) {
      return apply(data).then(function (done) {
        cursor = data.cursor;
        stopped = stopped || done === true;
        return stopped;
      });
    }

    function pollChanges() {
      poll(5000, function () {
        return stopped ? Promise.resolve(true) : getJSON(withCursor(changesUrl)).then(take);
      });
    }

    function listen() {
      var source = new window.EventSource(withCursor(eventsUrl));
      var opened = false;
      source.addEventListener("open", function () { opened = true; });
      source.addEventListener("changes", function (event) {
        take(JSON.parse(event.data)).then(function (done) { if (done) { source.close(); } });
      });
      source.addEventListener("signed-out", signedOut(source));
      source.addEventListener("error", function () {
        source.close();
        if (stopped) { return; }
        // A stream that ends at its time limit is opened again from the latest cursor;
        // one that never opened is replaced by polling.
        if (opened) { window.setTimeout(listen, 1000); } else { pollChanges(); }
      });
    }

    if (eventsUrl && typeof window.EventSource === "function") { listen(); } else { pollChanges(); }
  }

  // Dashboard table: only what changed since the cursor comes; those learners' rows are replaced
  // in place. A changed learner who belongs in the table but is not on this page (a new learner,
  // or one the sort moves) makes the page's rows come again, in order.
  function watchTable(tbody) {
    var rowsUrl = tbody.getAttribute("data-live-rows");

    function apply(data) {
      var missing = false;
      data.rows.forEach(function (item) {
        var row = tbody.querySelector('tr[data-user-id="' + item.user_id + '"]');
        if (!row) { missing = true; return; }
        var holder = document.createElement("tbody");
        holder.innerHTML = item.html;
        window.graderTimes.show(holder);  // as the row on the page shows its times, so an unchanged row stays
        var fresh = holder.firstElementChild;
        if (fresh && row.outerHTML !== fresh.outerHTML) { row.replaceWith(fresh); }
      });
      var done = missing && rowsUrl ? getHTML(rowsUrl).then(function (html) {
        tbody.innerHTML = html;
        window.graderTimes.show(tbody);
      }) : Promise.resolve();
      return done.then(function () {
        setStatus("Updated automatically; " + checkedAt());
        return false;
      });
    }

    setStatus("Updated automatically as results arrive.");
    followChanges(
      tbody.getAttribute("data-live-changes"), tbody.getAttribute("data-live-events"),
      tbody.getAttribute("data-cursor") || "", apply
    );
  }

  // A course dashboard with nobody in it yet: once a learner's first result arrives, the page's
  // main part is fetched again and put in place (summary, figures and the table), and it is
  // followed from then on as any dashboard is.
  function watchFirstLearner(box) {
    function apply(data) {
      if (!data.rows.length) { return Promise.resolve(false); }
      return getHTML(window.location.href).then(function (html) {
        var fresh = new window.DOMParser().parseFromString(html, "text/html").querySelector("main");
        var main = document.querySelector("main");
        if (!fresh || !main) { return false; }
        main.innerHTML = fresh.innerHTML;
        window.graderTimes.show(main);
        start(main);
        setStatus("Updated automatically; " + checkedAt());
        return true;
      });
    }
    setStatus("Waiting for the first result: it appears here when it arrives.");
    followChanges(
      box.getAttribute("data-live-first-changes"), box.getAttribute("data-live-first-events"),
      box.getAttribute("data-cursor") || "", apply
    );
  }

  // Dashboard overview: fetched again only when something changed since its cursor (204 otherwise).
  function watchOverview(element, seconds) {
    var url = element.getAttribute("data-live-html");
    var cursor = element.getAttribute("data-cursor") || "";
    poll(seconds * 1000, function () {
      var separator = url.indexOf("?") === -1 ? "?" : "&";
      return fetch(url + separator + "since=" + encodeURIComponent(cursor), {
        headers: { Accept: "text/html" }, credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        if (response.status === 204) { return false; }
        cursor = response.headers.get("X-Live-Cursor") || cursor;
        return response.text().then(function (html) {
          if (html !== element.innerHTML) { element.innerHTML = html; window.graderTimes.show(element); }
          return false;
        });
      });
    });
  }

  // Background work (a regrade, an import of accounts): "done of total" and its message until it is finished.
  // What stops being true when the work fails (an import's generated passwords) is hidden then.
  // Once finished, the result the server rendered (a regrade's summary) is shown, unless already there.
  function watchProgress(box) {
    var url = box.getAttribute("data-progress-url");
    var resultUrl = box.getAttribute("data-progress-result-url");
    var result = document.querySelector("[data-progress-result]");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    poll(1000, function () {
      return getJSON(url).then(function (data) {
        if (bar) { bar.max = data.total || 1; bar.value = data.done; }
        if (text) { text.textContent = data.message; }
        if (data.status === "failed") {
          document.querySelectorAll("[data-hidden-if-failed]").forEach(function (part) { part.hidden = true; });
        }
        if (!data.finished || !resultUrl || !result || result.children.length) { return data.finished; }
        return getHTML(resultUrl).then(function (html) { result.innerHTML = html; return true; });
      });
    });
  }

  // Exercise page: count down to the next allowed submission, then enable the buttons.
  function countDown(box) {
    var remaining = parseInt(box.getAttribute("data-countdown"), 10);
    var text = box.querySelector("[data-countdown-text]");
    var form = document.getElementById(box.getAttribute("data-form"));
    function setButtons(disabled) {
      if (form) { form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = disabled; }); }
    }
    function tick() {
      if (remaining <= 0) {
        box.textContent = "You can submit now.";
        setButtons(false);
        return;
      }
      setButtons(true);
      if (text) { text.textContent = remaining + (remaining === 1 ? " second" : " seconds"); }
      remaining -= 1;
      window.setTimeout(tick, 1000);
    }
    if (!isNaN(remaining)) { tick(); }
  }

  // Copy buttons next to commands, such as the curl line.
  function copyButton(button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
      });
    });
  }

  // The solution form's editor. Its textarea stays what the form sends (the editor copies every
  // change into it); a file chosen in the form's file field opens in the editor instead of being
  // sent beside it, so the learner sees what goes. Editors are kept by the id of their section,
  // where a result arriving live marks its diagnosed lines.
  var editors = {};

  function lineNumbers(text) {
    return (text || "").split(" ").map(function (word) { return parseInt(word, 10); }).filter(function (n) { return n > 0; });
  }

  function startEditor(textarea) {
    if (!window.GraderEditor) { return; }
    var form = textarea.form;
    var fileInput = form.querySelector("[data-editor-file]");
    var status = form.querySelector("[data-file-status]");
    var editor = window.GraderEditor.attach(textarea, {
      markedLines: lineNumbers(textarea.getAttribute("data-marked-lines")),
      maxBytes: parseInt(fileInput && fileInput.getAttribute("data-max-bytes"), 10) || 0,
      say: function (message) { if (status) { status.textContent = message; } }
    });
    form.querySelectorAll("[data-editor-only]").forEach(function (part) { part.hidden = false; });
    if (fileInput) {
      fileInput.addEventListener("change", function () {
        var file = fileInput.files[0];
        if (!file) { return; }
        editor.openFile(file).then(function (opened) { if (opened) { fileInput.value = ""; } });
      });
    }
    var section = form.closest("section[id]");
    if (section) { editors[section.id] = editor; }
  }

  // After a refused form the page opens on its error: scrolled into view and focused,
  // so the reason is the first thing seen and read out.
  function focusFormError(notice) {
    notice.setAttribute("tabindex", "-1");
    notice.scrollIntoView({ block: "center" });
    notice.focus({ preventScroll: true });
  }

  // What follows or enlivens a part of the page, started on the page's parts under ``root``.
  function start(root) {
    root.querySelectorAll("[data-status-url]").forEach(watchSubmission);
    root.querySelectorAll("[data-fix-checks-url]").forEach(watchFixChecks);
    root.querySelectorAll("[data-live-changes]").forEach(watchTable);
    root.querySelectorAll("[data-live-first-changes]").forEach(watchFirstLearner);
    root.querySelectorAll("[data-live-html]").forEach(function (part) {
      watchOverview(part, parseInt(part.getAttribute("data-live-seconds"), 10) || 15);
    });
    root.querySelectorAll("[data-progress-url]").forEach(watchProgress);
    root.querySelectorAll("[data-countdown]").forEach(countDown);
    root.querySelectorAll("button[data-copy]").forEach(copyButton);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-code-editor]").forEach(startEditor);
    var formError = document.querySelector(".notice-error[role=alert]");
    if (formError) { focusFormError(formError); }
    start(document);
  });
})();
