// Small progressive enhancements for the dashboard; every page works without this file.
"use strict";

// <form data-confirm="Delete this page?">: ask first, in the layout's <dialog> (modal: focus stays
// in it, Escape cancels). Capture phase, so the held-back submit never reaches htmx's own listener;
// a yes submits the form again with the same button, marked as confirmed.
let confirming = null;  // {form, submitter} while the dialog is open

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  const dialog = document.getElementById("confirm-dialog");
  if (!form || !dialog) return;
  if (form.dataset.confirmed) {
    delete form.dataset.confirmed;
    return;
  }
  event.preventDefault();
  event.stopImmediatePropagation();
  confirming = { form, submitter: event.submitter };
  dialog.querySelector("#confirm-dialog-question").textContent = form.dataset.confirm;
  const label = event.submitter && event.submitter.textContent.trim();
  dialog.querySelector("[data-confirm-answer=yes]").textContent = label || "Confirm";
  dialog.showModal();
  dialog.querySelector("[data-confirm-answer=no]").focus();
}, true);

document.addEventListener("click", (event) => {
  const answer = event.target.closest("#confirm-dialog [data-confirm-answer]");
  if (!answer) return;
  document.getElementById("confirm-dialog").close(answer.dataset.confirmAnswer);
});

document.addEventListener("close", (event) => {
  if (event.target.id !== "confirm-dialog" || !confirming) return;
  const { form, submitter } = confirming;
  confirming = null;
  if (event.target.returnValue === "yes") {
    form.dataset.confirmed = "yes";
    form.requestSubmit(submitter && form.contains(submitter) ? submitter : undefined);
  } else if (submitter) {
    submitter.focus();
  }
  event.target.returnValue = "";
}, true);

// <button data-copy="#element-id"> copies that element's value or text;
// any other data-copy value is copied as it is. Hidden buttons are revealed: they work now.
function enableCopyButtons(root) {
  root.querySelectorAll("[data-copy][hidden]").forEach((button) => { button.hidden = false; });
}

function copyText(button) {
  const source = button.dataset.copy;
  if (!source.startsWith("#")) return source;
  const target = document.getElementById(source.slice(1));
  if (!target) return "";
  return "value" in target && target.tagName !== "BUTTON" ? target.value : target.textContent;
}

// Screen readers hear the outcome through a polite live region (created on first use).
function announce(text) {
  let region = document.getElementById("copy-status");
  if (!region) {
    region = document.createElement("p");
    region.id = "copy-status";
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    document.body.append(region);
  }
  region.textContent = text;
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  try {
    await navigator.clipboard.writeText(copyText(button));
    button.textContent = "Copied";
    announce("Copied to the clipboard.");
  } catch {
    const target = document.getElementById(button.dataset.copy.slice(1));
    if (target && target.select) target.select();
    button.textContent = "Press Ctrl+C";
    announce("Copying was blocked; the text is selected, press Ctrl+C.");
  }
  setTimeout(() => { button.textContent = label; }, 2000);
});

// Dropdown menus (<details class="dropdown">): close on a click elsewhere and on Escape.
function closeDropdowns(except) {
  document.querySelectorAll("details.dropdown[open]").forEach((menu) => {
    if (menu !== except) menu.removeAttribute("open");
  });
}

document.addEventListener("click", (event) => {
  closeDropdowns(event.target.closest("details.dropdown"));
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector("details.dropdown[open]");
  if (!open) return;
  closeDropdowns(null);
  open.querySelector("summary").focus();
});

function enhance(root) {
  enableCopyButtons(root);
  // On narrow screens the store navigation scrolls sideways: bring the current item into view.
  const nav = root.querySelector(".sidebar");
  const current = nav && nav.querySelector("[aria-current]");
  if (current && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft = current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
  }
}

document.addEventListener("DOMContentLoaded", () => enhance(document));
document.addEventListener("htmx:load", (event) => enableCopyButtons(event.detail.elt));
