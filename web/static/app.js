// resolution-qa chat page: clickable citations (open the Resolution tab at the unit) and copy buttons.
// Loaded once in <head>; listens on the document so it works for HTML Gradio renders later.
(() => {
  if (window.__resolutionQa) return;
  window.__resolutionQa = true;

  const TAB_BUTTON = "tab-resolution-button";

  function focusUnit(anchorId) {
    const tab = document.getElementById(TAB_BUTTON);
    if (tab && tab.getAttribute("aria-selected") !== "true") tab.click();
    let tries = 0;
    const seek = () => {
      const unit = document.getElementById(anchorId);
      if (unit) unit.classList.remove("nomatch"); // a search may have hidden it
      if (unit && unit.offsetParent !== null) {
        document.querySelectorAll(".unit.focused").forEach((u) => u.classList.remove("focused"));
        unit.classList.add("focused");
        unit.scrollIntoView({ block: "center" });
        history.replaceState(null, "", "#" + anchorId);
        return;
      }
      // The tab's content appears a frame or two after the click.
      if (tries++ < 60) setTimeout(seek, 50);
    };
    seek();
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain http on a non-loopback address: the async clipboard is not available.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  document.addEventListener(
    "click",
    (event) => {
      const cite = event.target.closest("a.cite");
      if (cite) {
        // Capture phase: runs before the chatbot's own link handling (which would open a new tab).
        event.preventDefault();
        event.stopPropagation();
        focusUnit(cite.getAttribute("href").slice(1));
        return;
      }
      const button = event.target.closest("button.copy-cite");
      if (button) {
        event.preventDefault();
        const label = button.dataset.label || button.textContent;
        button.dataset.label = label;
        copyText(button.dataset.copy).then(
          () => {
            button.textContent = button.dataset.done;
            button.classList.add("done");
            setTimeout(() => {
              button.textContent = label;
              button.classList.remove("done");
            }, 1600);
          },
          () => {
            button.textContent = button.dataset.copy; // at least show it, selectable
          }
        );
      }
    },
    true
  );

  // A link to the page with #u-... opens that unit.
  window.addEventListener("load", () => {
    if (location.hash.startsWith("#u-")) focusUnit(location.hash.slice(1));
  });
})();
