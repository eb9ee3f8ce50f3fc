// A "Show password" button after each password field of the page, so a reader can check what
// they typed instead of typing it twice. Progressive enhancement: without this script the
// field is an ordinary password field and the form works the same.
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[type=password]");
  Array.prototype.forEach.call(fields, function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "password-toggle";
    button.textContent = "Show password";
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", function () {
      var hidden = input.type === "password";
      input.type = hidden ? "text" : "password";
      button.textContent = hidden ? "Hide password" : "Show password";
      input.focus();
    });
    input.insertAdjacentElement("afterend", button);
  });
  // Never submit the password as visible text: a browser may offer to save a text field.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(fields, function (input) {
        input.type = "password";
      });
    });
  });
})();
