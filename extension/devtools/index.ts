/** The devtools page: adds the Cask panel (the same page is openable as a tab). */
chrome.devtools.panels.create('Cask', '', 'panel.html');
