<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:include href="header.xsl" />
  <xsl:include href="footer.xsl" />
  <xsl:template match="/">
    <html><body>
      <xsl:call-template name="head" />
      <h2>@@header@@</h2>
      <p>@@loans@@: <xsl:value-of select="count(notification_data/loans/item_loan)" /></p>
      <p>@@requests@@: <xsl:value-of select="count(notification_data/requests/request)" /></p>
      <p>@@fines_fees@@: <xsl:value-of select="notification_data/total_fines_amount" /></p>
      <xsl:call-template name="lastFooter" />
    </body></html>
  </xsl:template>
</xsl:stylesheet>
