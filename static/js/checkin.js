// Check-in: when the agency asks for the position, add it if the phone gives
// it within a few seconds; never block the check-in without it.
(function () {
  var form = document.querySelector("form.checkin[data-geo='on']");
  // on the carer's phone, phone.js checks in (queued when there is no signal)
  if (!form || !navigator.geolocation || form.dataset.offline) return;
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) return;
    event.preventDefault();
    var submit = function () { sent = true; form.submit(); };
    var timer = setTimeout(submit, 8000);
    navigator.geolocation.getCurrentPosition(function (pos) {
      clearTimeout(timer);
      form.querySelector("[name=latitude]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = pos.coords.longitude.toFixed(6);
      submit();
    }, function () { clearTimeout(timer); submit(); }, { enableHighAccuracy: true, timeout: 7000 });
  });
})();
