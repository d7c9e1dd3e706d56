// Stripe's Payment Element on the payment page. Card details go from the browser to Stripe;
// confirmPayment sends the patient to our return page, which asks Stripe how it went.
(function () {
  "use strict";

  const form = document.getElementById("payment-form");
  if (!form) return;
  const button = document.getElementById("payment-submit");
  const errorBox = document.getElementById("payment-error");
  const loading = document.getElementById("payment-loading");

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    errorBox.focus();
  }

  if (typeof window.Stripe !== "function") {
    if (loading) loading.hidden = true;
    showError(form.dataset.loadError);
    return;
  }

  const stripe = window.Stripe(form.dataset.publishableKey);
  const elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  const paymentElement = elements.create("payment");
  paymentElement.on("ready", function () {
    if (loading) loading.hidden = true;
    button.disabled = false;
  });
  paymentElement.mount("#payment-element");

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    errorBox.hidden = true;
    const result = await stripe.confirmPayment({
      elements: elements,
      confirmParams: { return_url: form.dataset.returnUrl },
    });
    // Reached only when Stripe did not redirect: a declined card or details to correct.
    if (result.error) showError(result.error.message);
    button.disabled = false;
  });
})();
