// Check-in: ask the phone where it is (optional) and put it in the form's hidden fields.
// Permissions-Policy allows geolocation for our own origin only.
(function () {
  "use strict";
  var form = document.querySelector("form[data-geolocate]");
  var status = document.getElementById("location-status");
  if (!form || !status) { return; }
  var lat = form.elements.latitude, lng = form.elements.longitude, acc = form.elements.accuracy;
  if (lat && lat.value) { status.textContent = status.dataset.done; return; }
  if (!("geolocation" in navigator)) { status.textContent = status.dataset.unavailable; return; }
  status.textContent = status.dataset.asking;
  navigator.geolocation.getCurrentPosition(
    function (position) {
      lat.value = position.coords.latitude.toFixed(6);
      lng.value = position.coords.longitude.toFixed(6);
      acc.value = Math.round(position.coords.accuracy || 0);
      status.textContent = status.dataset.done;
    },
    function () { status.textContent = status.dataset.unavailable; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
  );
})();
