<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:include href="header.xsl" />
  <xsl:template match="/">
    <html><body><h2>@@header@@</h2>
      <p>@@title@@: <xsl:value-of select="notification_data/item_loan/title" /></p>
      <p>@@due_date@@: <xsl:value-of select="notification_data/item_loan/due_date" /></p>
    </body></html>
  </xsl:template>
</xsl:stylesheet>
