/**
 * Dark and light: the system's choice by default; the toggle picks the other
 * one and the choice is remembered.
 */

import { remember } from "./remember.js";

const dark = matchMedia("(prefers-color-scheme: dark)");

/** The theme in effect. */
function current() {
  return remember.theme ?? (dark.matches ? "dark" : "light");
}

/** @param {HTMLButtonElement} toggle */
export function setupTheme(toggle) {
  const apply = () => {
    const chosen = remember.theme;
    if (chosen === null) delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = chosen;
    const isDark = current() === "dark";
    toggle.setAttribute("aria-pressed", String(isDark));
    toggle.title = isDark ? "Dark theme (press for light)" : "Light theme (press for dark)";
  };
  toggle.addEventListener("click", () => {
    remember.theme = current() === "dark" ? "light" : "dark";
    apply();
  });
  dark.addEventListener("change", apply);
  apply();
}
